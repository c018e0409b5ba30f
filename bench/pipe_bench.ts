/**
 * Pipe benchmark: streaming throughput at 64 B, 4 KiB and 64 KiB per write
 * (a child process writes, this one reads), and 64-byte ping-pong round
 * trips, for ipckit, a C baseline compiled in this run, and Deno.Command's
 * stdio pipes.
 *
 * @module
 */
import { type Case, compileC, denoNumber, runNumber } from "./_harness.ts";

const ROUNDS = 5000;

/**
 * How many messages a streaming case sends: about 512 MiB, at least 8192, at
 * most 200 000. The first quarter is not timed (bench/c/stream.c): V8
 * compiles the loops on a background thread, which on a 2-CPU host competes
 * with the two streaming processes, and tiering up took 20 000 messages of
 * 4 KiB (about 150 ms) here. With the 2 000 messages sent before, a 4 KiB
 * stream was over before ipckit's loop was compiled: it measured warm-up.
 */
export function streamCount(size: number): number {
  return Math.min(200_000, Math.max(8192, Math.round(512 * 2 ** 20 / size)));
}

/** A streaming case of `mechanism` (pipe, socket, mq, sysv) at `size` bytes per message. */
export async function streamCase(
  mechanism: string,
  label: string,
  size: number,
  extra: Partial<Case> = {},
): Promise<Case> {
  const bin = await compileC("stream");
  const count = String(streamCount(size));
  const sizeLabel = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
  return {
    mechanism: label,
    case: `stream of ${sizeLabel} messages to another process`,
    kind: "throughput",
    c: () => runNumber(bin, [mechanism, String(size), count]),
    ipckit: () => denoNumber("./stream_worker.ts", [mechanism, String(size), count]),
    goal: 2,
    ...extra,
  };
}

/** The pipe cases. */
export async function pipeCases(): Promise<Case[]> {
  const c = await compileC("pipe_baseline");
  const worker = "./pipe_worker.ts";
  const denoStream = (size: number) => ({
    // A quarter of the volume: Deno.Command's stdout runs at 1/40 of C's speed.
    deno: () =>
      denoNumber(worker, ["deno-stream", String(size), String(Math.round(streamCount(size) / 4))]),
    denoLabel: "Deno.Command stdout",
  });
  return [
    await streamCase("pipe", "pipe", 64, denoStream(64)),
    await streamCase("pipe", "pipe", 4096, denoStream(4096)),
    await streamCase("pipe", "pipe", 65536, denoStream(65536)),
    {
      mechanism: "pipe",
      case: "64 B ping-pong round trip between two processes",
      kind: "time",
      c: () => runNumber(c, ["pingpong", String(ROUNDS)]),
      ipckit: () => denoNumber(worker, ["ipckit-pingpong", String(ROUNDS)]),
      deno: () => denoNumber(worker, ["deno-pingpong", String(ROUNDS)]),
      denoLabel: "Deno.Command stdin/stdout",
      goal: 2,
    },
    {
      mechanism: "pipe",
      case: "64 B round trip with a C echo process (one ipckit side)",
      kind: "time",
      c: () => runNumber(c, ["pingpong", String(ROUNDS)]),
      ipckit: () => denoNumber(worker, ["ipckit-c-pingpong", String(ROUNDS), c]),
      goal: 2,
    },
  ];
}
