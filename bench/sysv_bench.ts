/**
 * System V benchmarks against C (bench/c/sysv_pingpong.c, compiled in this
 * run):
 *
 * - msgsnd+msgrcv of 64 B on one queue in one process (the try* path, with
 *   and without allocation);
 * - a 64 B round trip to a C echo process, receiving with the waiting
 *   `receiveInto()` (C: blocking msgrcv);
 * - streams of 64 B and 4 KiB messages between two processes
 *   (bench/stream_worker.ts, bench/c/stream.c);
 * - semop +1/−1 in one process (`tryOp`);
 * - a semaphore ping-pong with a C process, waiting with `op()` (C: blocking
 *   semop).
 */
import { type Case, compileC, runNumber } from "./_harness.ts";
import { streamCase } from "./pipe_bench.ts";
import {
  createSysvMessageQueue,
  createSysvSemaphoreSet,
  openSysvMessageQueue,
  openSysvSemaphoreSet,
} from "../mod.ts";

const SYNC_N = 100_000;
const RT_N = 2_000;

function syncMsg(): number {
  using q = createSysvMessageQueue({ removeOnClose: true });
  const data = new Uint8Array(64);
  const t0 = performance.now();
  for (let i = 0; i < SYNC_N; i++) {
    q.trySend(data, { type: 1 });
    q.tryReceive({ messageSize: 64 });
  }
  return (performance.now() - t0) * 1000 / SYNC_N;
}

/** µs per 64 B trySend + tryReceiveInto pair, `n` times (default SYNC_N). */
export function syncMsgInto(n = SYNC_N): number {
  using q = createSysvMessageQueue({ removeOnClose: true });
  const data = new Uint8Array(64);
  const into = new Uint8Array(64);
  for (let i = 0; i < 1000; i++) q.trySend(data, { type: 1 }) && q.tryReceiveInto(into); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    q.trySend(data, { type: 1 });
    q.tryReceiveInto(into);
  }
  return (performance.now() - t0) * 1000 / n;
}

function syncSem(): number {
  using s = createSysvSemaphoreSet({ removeOnClose: true });
  const up = [{ index: 0, delta: 1 }], down = [{ index: 0, delta: -1 }];
  const t0 = performance.now();
  for (let i = 0; i < SYNC_N; i++) {
    s.tryOp(up);
    s.tryOp(down);
  }
  return (performance.now() - t0) * 1000 / (2 * SYNC_N);
}

/** Runs `fn` against a C echo process on a fresh object; returns µs per round trip. */
async function withEcho(
  bin: string,
  kind: "msg" | "sem",
  client: (id: number) => Promise<number>,
): Promise<number> {
  using obj = kind === "msg"
    ? createSysvMessageQueue({ removeOnClose: true })
    : createSysvSemaphoreSet({ count: 2, removeOnClose: true });
  const echo = new Deno.Command(bin, { args: [`${kind}-echo`, String(obj.id)] }).spawn();
  try {
    return await client(obj.id);
  } finally {
    obj.close(); // removal ends the echo loop
    await echo.status;
  }
}

async function asyncMsg(bin: string, ipckit: boolean): Promise<number> {
  return await withEcho(bin, "msg", async (id) => {
    if (!ipckit) return await runNumber(bin, ["msg-client", String(id), String(RT_N)]);
    using q = openSysvMessageQueue({ id });
    const data = new Uint8Array(64);
    const into = new Uint8Array(64);
    const type1 = { type: 1 }, type2 = { type: 2 };
    const t0 = performance.now();
    for (let i = 0; i < RT_N; i++) {
      await q.send(data, type1);
      await q.receiveInto(into, type2);
    }
    return (performance.now() - t0) * 1000 / RT_N;
  });
}

async function asyncSem(bin: string, ipckit: boolean): Promise<number> {
  return await withEcho(bin, "sem", async (id) => {
    if (!ipckit) return await runNumber(bin, ["sem-client", String(id), String(RT_N)]);
    using s = openSysvSemaphoreSet({ id });
    const wait = [{ index: 1, delta: -1 }];
    const t0 = performance.now();
    for (let i = 0; i < RT_N; i++) {
      s.post(0, { undo: false });
      await s.op(wait);
    }
    return (performance.now() - t0) * 1000 / RT_N;
  });
}

/** The System V cases. */
export async function sysvCases(): Promise<Case[]> {
  const bin = await compileC("sysv_pingpong");
  const c = (args: string[]) => () => runNumber(bin, args);
  const msgSync = c(["msg-sync", String(SYNC_N)]);
  return [
    {
      mechanism: "sysv msg",
      case: "64 B msgsnd+msgrcv, one process (trySend/tryReceiveInto, no allocation)",
      kind: "time",
      c: msgSync,
      ipckit: syncMsgInto,
      goal: 1.3,
    },
    {
      mechanism: "sysv msg",
      case: "64 B msgsnd+msgrcv, one process (trySend/tryReceive, allocates a Message)",
      kind: "time",
      c: msgSync,
      ipckit: syncMsg,
    },
    {
      mechanism: "sysv msg",
      case: "64 B round trip with a C echo process (await receiveInto)",
      kind: "time",
      c: () => asyncMsg(bin, false),
      ipckit: () => asyncMsg(bin, true),
      goal: 2,
    },
    await streamCase("sysv", "sysv msg", 64),
    await streamCase("sysv", "sysv msg", 4096),
    {
      mechanism: "sysv sem",
      case: "semop ±1, one process (tryOp)",
      kind: "time",
      c: c(["sem-sync", String(SYNC_N)]),
      ipckit: syncSem,
      goal: 1.3,
    },
    {
      mechanism: "sysv sem",
      case: "ping-pong with a C process (await op)",
      kind: "time",
      c: () => asyncSem(bin, false),
      ipckit: () => asyncSem(bin, true),
      goal: 2,
    },
  ];
}
