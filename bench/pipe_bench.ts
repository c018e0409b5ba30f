/**
 * Pipe benchmark: 64 KiB-write throughput (256 MiB) and 64-byte ping-pong
 * round trips between two processes, for ipckit, a C baseline compiled in
 * this run, and Deno.Command's stdio pipes.
 */
import { compileC, median, type Row, run, runDeno } from "./_harness.ts";

const BYTES = 256 * 1024 * 1024;
const ROUNDS = 5000;
const RUNS = 3;

/** Runs the pipe benchmark. */
export async function pipeBench(): Promise<Row[]> {
  const c = await compileC("pipe_baseline");
  const num = async (p: Promise<string>) => Number(await p);
  const worker = "./pipe_worker.ts";
  return [
    {
      mechanism: "pipe",
      case: "throughput, 64 KiB writes, 256 MiB, child → parent",
      kind: "throughput",
      c: await median(RUNS, () => num(run(c, ["throughput", String(BYTES)]))),
      ipckit: await median(RUNS, () => num(runDeno(worker, ["ipckit-throughput", String(BYTES)]))),
      deno: await median(RUNS, () => num(runDeno(worker, ["deno-throughput", String(BYTES)]))),
      denoLabel: "Deno.Command stdout",
    },
    {
      mechanism: "pipe",
      case: "64 B ping-pong round trip between two processes",
      kind: "time",
      c: await median(RUNS, () => num(run(c, ["pingpong", String(ROUNDS)]))),
      ipckit: await median(RUNS, () => num(runDeno(worker, ["ipckit-pingpong", String(ROUNDS)]))),
      deno: await median(RUNS, () => num(runDeno(worker, ["deno-pingpong", String(ROUNDS)]))),
      denoLabel: "Deno.Command stdin/stdout",
      goal: 2,
    },
    {
      mechanism: "pipe",
      case: "64 B round trip with a C echo process (one ipckit side)",
      kind: "time",
      c: await median(RUNS, () => num(run(c, ["pingpong", String(ROUNDS)]))),
      ipckit: await median(
        RUNS,
        () => num(runDeno(worker, ["ipckit-c-pingpong", String(ROUNDS), c])),
      ),
      goal: 2,
    },
  ];
}
