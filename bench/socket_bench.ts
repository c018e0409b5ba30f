/**
 * Unix stream socket: 64 B round-trip latency and 64 KiB-write throughput,
 * where the peer is the same C server for all three clients (C, ipckit, and
 * Deno's built-in `Deno.connect({ transport: "unix" })`), so only the client
 * side differs; and streams of 64 B and 4 KiB messages over a socketpair
 * between two processes (bench/stream_worker.ts, bench/c/stream.c). Run:
 * `deno task bench socket`.
 *
 * @module
 */
import { type Case, compileC, runNumber } from "./_harness.ts";
import { streamCase } from "./pipe_bench.ts";
import { connectUnix } from "../mod.ts";

const ROUND_TRIPS = 10000;
const MIB = 128;

interface Server {
  done: Promise<Deno.CommandStatus>;
}

async function startServer(bin: string, path: string, mode: "echo" | "sink"): Promise<Server> {
  const proc = new Deno.Command(bin, {
    args: ["server", path, mode],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  if (!value?.startsWith("ready")) throw new Error(`server did not start: ${value}`);
  reader.releaseLock();
  return { done: proc.status.finally(() => proc.stdout.cancel().catch(() => {})) };
}

async function readExactly(read: (b: Uint8Array) => Promise<number | null>, b: Uint8Array) {
  let got = 0;
  while (got < b.length) {
    const n = await read(b.subarray(got));
    if (n === null) throw new Error("unexpected end of stream");
    got += n;
  }
}

async function writeFully(write: (b: Uint8Array) => Promise<number>, b: Uint8Array) {
  let put = 0;
  while (put < b.length) put += await write(b.subarray(put));
}

type Client = {
  read(b: Uint8Array): Promise<number | null>;
  write(b: Uint8Array): Promise<number>;
  closeWrite(): Promise<void> | void;
  close(): void;
};

async function ipckitClient(path: string): Promise<Client> {
  const s = await connectUnix(path, { timeout: 5000 });
  return {
    read: (b) => s.read(b),
    write: (b) => s.write(b),
    closeWrite: () => s.shutdown("write"),
    close: () => s.close(),
  };
}

async function denoClient(path: string): Promise<Client> {
  const c = await Deno.connect({ transport: "unix", path });
  return {
    read: (b) => c.read(b),
    write: (b) => c.write(b),
    closeWrite: () => c.closeWrite(),
    close: () => c.close(),
  };
}

async function roundTrip(bin: string, path: string, open: (p: string) => Promise<Client>) {
  const server = await startServer(bin, path, "echo");
  const c = await open(path);
  const buf = new Uint8Array(64).fill(7);
  for (let i = 0; i < 1000; i++) {
    await writeFully((b) => c.write(b), buf);
    await readExactly((b) => c.read(b), buf);
  }
  const t0 = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    await writeFully((b) => c.write(b), buf);
    await readExactly((b) => c.read(b), buf);
  }
  const us = (performance.now() - t0) * 1000 / ROUND_TRIPS;
  c.close();
  await server.done;
  return us;
}

async function throughput(
  bin: string,
  path: string,
  open: (p: string) => Promise<Client>,
  mib = MIB,
) {
  const server = await startServer(bin, path, "sink");
  const c = await open(path);
  const chunk = new Uint8Array(65536).fill(7);
  for (let i = 0; i < 16 * 16; i++) await writeFully((b) => c.write(b), chunk); // 16 MiB warm-up
  const t0 = performance.now();
  for (let i = 0; i < mib * 16; i++) await writeFully((b) => c.write(b), chunk);
  await c.closeWrite();
  await readExactly((b) => c.read(b), new Uint8Array(1));
  const mibs = mib / ((performance.now() - t0) / 1000);
  c.close();
  await server.done;
  return mibs;
}

/**
 * The C and ipckit measurements of 64 KiB-write throughput into a C sink
 * (`mib` MiB), for bench/main.ts and tests/bench_smoke_test.ts.
 */
export async function socketThroughput(
  dir: string,
  mib = MIB,
): Promise<{ c: () => Promise<number>; ipckit: () => Promise<number> }> {
  const bin = await compileC("socket_bench");
  const path = `${dir}/tp.sock`;
  return {
    c: async () => {
      const server = await startServer(bin, path, "sink");
      const out = await runNumber(bin, ["client", path, "tp", String(mib)]);
      await server.done;
      return out;
    },
    ipckit: () => throughput(bin, path, ipckitClient, mib),
  };
}

/** The socket cases; `dir` is a scratch directory for the socket file. */
export async function socketCases(dir: string): Promise<Case[]> {
  const bin = await compileC("socket_bench");
  const path = `${dir}/bench.sock`;
  const cClient = async (mode: "echo" | "sink", args: string[]) => {
    const server = await startServer(bin, path, mode);
    const out = await runNumber(bin, ["client", path, ...args]);
    await server.done;
    return out;
  };
  return [
    {
      mechanism: "unix socket",
      case: "64 B round trip (stream, C echo peer)",
      kind: "time",
      c: () => cClient("echo", ["rt", String(ROUND_TRIPS)]),
      ipckit: () => roundTrip(bin, path, ipckitClient),
      deno: () => roundTrip(bin, path, denoClient),
      denoLabel: "Deno.connect unix",
      goal: 2,
    },
    {
      mechanism: "unix socket",
      case: "throughput, 64 KiB writes (stream, C sink peer)",
      kind: "throughput",
      c: () => cClient("sink", ["tp", String(MIB)]),
      ipckit: () => throughput(bin, path, ipckitClient),
      deno: () => throughput(bin, path, denoClient),
      denoLabel: "Deno.connect unix",
      goal: 2,
    },
    await streamCase("socket", "unix socket", 64),
    await streamCase("socket", "unix socket", 4096),
  ];
}
