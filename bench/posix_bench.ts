/**
 * POSIX benchmarks: message queues (sync try-ops, async round trip and
 * streaming at 64 B and 4 KiB), semaphore try-ops and ping-pong round trip,
 * and shared-memory copy bandwidth, each against a C baseline compiled in
 * this run (bench/c/posix.c, bench/c/stream.c). The ipckit peer is a second
 * Deno process using the async API.
 *
 * @module
 */
import { type Case, compileC, runNumber } from "./_harness.ts";
import { streamCase } from "./pipe_bench.ts";
import {
  createMessageQueue,
  createSemaphore,
  createSharedMemory,
  removeMessageQueue,
  removeSemaphore,
} from "../mod.ts";

let seq = 0;
const uniq = () => `/ipckit-bench-${Deno.pid}-${++seq}`;

/** µs per trySend + tryReceive(Into) pair of `size` bytes on a fresh queue, `n` times. */
export function mqTry(size: number, n: number, into = false): number {
  const name = uniq();
  using q = createMessageQueue(name, { maxMessages: 10, messageSize: size });
  q.remove();
  const data = new Uint8Array(size);
  const buf = new Uint8Array(size);
  const recv = into ? () => q.tryReceiveInto(buf) : () => q.tryReceive();
  for (let i = 0; i < 1000; i++) {
    q.trySend(data);
    recv();
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    q.trySend(data);
    recv();
  }
  return (performance.now() - t0) * 1000 / n;
}

async function withPeer(args: string[], fn: () => Promise<void>): Promise<void> {
  const peer = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--no-check",
      new URL("./posix_peer.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
  }).spawn();
  const reader = peer.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read(); // "ready"
  await fn();
  await peer.status;
  await reader.cancel();
}

/** µs per round trip over two queues with an echo peer (bench/posix_peer.ts). */
async function mqRoundTrip(size: number, n: number): Promise<number> {
  const [a, b] = [uniq(), uniq()];
  const qa = createMessageQueue(a, { maxMessages: 10, messageSize: size });
  const qb = createMessageQueue(b, { maxMessages: 10, messageSize: size });
  const data = new Uint8Array(size);
  const into = new Uint8Array(size);
  let dt = 0;
  try {
    await withPeer(["mq-rtt", a, b, String(n)], async () => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await qa.send(data, { timeout: 30000 });
        await qb.receiveInto(into, { timeout: 30000 });
      }
      dt = performance.now() - t0;
    });
  } finally {
    qa.close();
    qb.close();
    removeMessageQueue(a);
    removeMessageQueue(b);
  }
  return dt * 1000 / n;
}

function semTry(n: number): number {
  const name = uniq();
  using s = createSemaphore(name);
  s.remove();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    s.post();
    s.tryWait();
  }
  return (performance.now() - t0) * 1000 / n;
}

async function semRtt(n: number): Promise<number> {
  const [a, b] = [uniq(), uniq()];
  const sa = createSemaphore(a);
  const sb = createSemaphore(b);
  let dt = 0;
  try {
    await withPeer(["sem-rtt", a, b, String(n)], async () => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        sa.post();
        await sb.wait({ timeout: 30000 });
      }
      dt = performance.now() - t0;
    });
  } finally {
    sa.close();
    sb.close();
    removeSemaphore(a);
    removeSemaphore(b);
  }
  return dt * 1000 / n;
}

/** MiB/s copying `mib` MiB into a shared-memory mapping `n` times. */
export function shmCopy(mib: number, n: number): number {
  const name = uniq();
  using shm = createSharedMemory(name, { size: mib << 20 });
  shm.remove();
  const src = new Uint8Array(mib << 20).fill(1);
  shm.bytes.set(src);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    src[0] = i;
    shm.bytes.set(src);
  }
  return mib * n / ((performance.now() - t0) / 1000);
}

/** The POSIX cases. */
export async function posixCases(): Promise<Case[]> {
  const c = await compileC("posix");
  const cNum = (args: string[]) => () => runNumber(c, args);
  const cases: Case[] = [];
  for (const size of [64, 4096]) {
    const label = size === 64 ? "64 B" : "4 KiB";
    const tryC = cNum(["mq-try", String(size), "100000"]);
    cases.push({
      mechanism: "posix mq",
      case: `${label} trySend+tryReceiveInto (sync, one process, no allocation)`,
      kind: "time",
      c: tryC,
      ipckit: () => mqTry(size, 100000, true),
      goal: 1.3,
    });
    cases.push({
      mechanism: "posix mq",
      case: `${label} trySend+tryReceive (sync, allocates a Message)`,
      kind: "time",
      c: tryC,
      ipckit: () => mqTry(size, 100000),
    });
    cases.push({
      mechanism: "posix mq",
      case: `${label} round trip between processes (async)`,
      kind: "time",
      c: cNum(["mq-rtt", String(size), "10000"]),
      ipckit: () => mqRoundTrip(size, 5000),
      goal: 2,
    });
    cases.push(await streamCase("mq", "posix mq", size));
  }
  cases.push({
    mechanism: "posix sem",
    case: "post+tryWait (sync, one process)",
    kind: "time",
    c: cNum(["sem-try", "500000"]),
    ipckit: () => semTry(500000),
    goal: 1.3,
  });
  cases.push({
    mechanism: "posix sem",
    case: "ping-pong round trip between processes (async)",
    kind: "time",
    c: cNum(["sem-rtt", "10000"]),
    ipckit: () => semRtt(2000),
    goal: 2,
  });
  cases.push({
    mechanism: "posix shm",
    case: "copy 16 MiB into the mapping (bytes.set vs memcpy)",
    kind: "throughput",
    c: cNum(["memcpy", "16", "30"]),
    ipckit: () => shmCopy(16, 30),
  });
  return cases;
}
