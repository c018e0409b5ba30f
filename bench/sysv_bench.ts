/**
 * System V benchmarks against C (bench/c/sysv_pingpong.c, compiled in this
 * run):
 *
 * - msgsnd+msgrcv of 64 B on one queue in one process (the try* path);
 * - a 64 B round trip to a C echo process, receiving with the waiting
 *   `receive()` (C: blocking msgrcv);
 * - semop +1/−1 in one process (`tryOp`);
 * - a semaphore ping-pong with a C process, waiting with `op()` (C: blocking
 *   semop).
 */
import { compileC, type Row, run } from "./_harness.ts";
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

function syncMsgInto(): number {
  using q = createSysvMessageQueue({ removeOnClose: true });
  const data = new Uint8Array(64);
  const into = new Uint8Array(64);
  const t0 = performance.now();
  for (let i = 0; i < SYNC_N; i++) {
    q.trySend(data, { type: 1 });
    q.tryReceiveInto(into);
  }
  return (performance.now() - t0) * 1000 / SYNC_N;
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
    if (!ipckit) return Number(await run(bin, ["msg-client", String(id), String(RT_N)]));
    using q = openSysvMessageQueue({ id });
    const data = new Uint8Array(64);
    const t0 = performance.now();
    for (let i = 0; i < RT_N / 4; i++) {
      await q.send(data, { type: 1 });
      await q.receive({ type: 2, messageSize: 64 });
    }
    return (performance.now() - t0) * 1000 / (RT_N / 4);
  });
}

async function asyncSem(bin: string, ipckit: boolean): Promise<number> {
  return await withEcho(bin, "sem", async (id) => {
    if (!ipckit) return Number(await run(bin, ["sem-client", String(id), String(RT_N)]));
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

/**
 * Medians of `runs` runs of ipckit and C, interleaved (ipckit, C, ipckit,
 * ...) so that load from other processes on this shared machine hits both
 * alike.
 */
async function paired(
  runs: number,
  ipckit: () => Promise<number> | number,
  c: () => Promise<number>,
): Promise<[number, number]> {
  const a: number[] = [], b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await ipckit());
    b.push(await c());
  }
  const med = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return [med(a), med(b)];
}

/** The System V rows. */
export async function sysvBench(): Promise<Row[]> {
  const bin = await compileC("sysv_pingpong");
  const c = (args: string[]) => async () => Number(await run(bin, args));
  const rows: Row[] = [];
  const add = async (
    mechanism: string,
    name: string,
    goal: number,
    runs: number,
    ipckit: () => Promise<number> | number,
    cFn: () => Promise<number>,
  ) => {
    const [i, cc] = await paired(runs, ipckit, cFn);
    rows.push({ mechanism, case: name, kind: "time", ipckit: i, c: cc, goal });
  };
  const msgSync = c(["msg-sync", String(SYNC_N)]);
  await add(
    "sysv-msg",
    "64 B msgsnd+msgrcv, one process (trySend/tryReceive)",
    1.3,
    7,
    syncMsg,
    msgSync,
  );
  await add(
    "sysv-msg",
    "64 B msgsnd+msgrcv, one process (trySend/tryReceiveInto, no allocation)",
    1.3,
    7,
    syncMsgInto,
    msgSync,
  );
  await add(
    "sysv-msg",
    "64 B round trip with a C echo process (await receive)",
    2,
    5,
    () => asyncMsg(bin, true),
    () => asyncMsg(bin, false),
  );
  await add(
    "sysv-sem",
    "semop ±1, one process (tryOp)",
    1.3,
    7,
    syncSem,
    c(["sem-sync", String(SYNC_N)]),
  );
  await add(
    "sysv-sem",
    "ping-pong with a C process (await op)",
    2,
    5,
    () => asyncSem(bin, true),
    () => asyncSem(bin, false),
  );
  return rows;
}
