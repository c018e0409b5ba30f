/**
 * Locks: uncontended lock+unlock (flock and OFD) against C and Deno's
 * `FsFile.lockSync`; signals: a round trip between two processes (send,
 * the peer receives with siginfo and answers the sender's pid) against C
 * (sigwaitinfo) and Deno's `addSignalListener` + `Deno.kill`.
 *
 * @module
 */
import { type Bench, compileC, median, type Row, run, runDeno } from "./_harness.ts";

const RUNS = 5;

export const lockBench: Bench = async () => {
  const lockC = await compileC("lock_bench");
  const dir = await Deno.makeTempDir({ prefix: "ipckit-bench-" });
  const path = `${dir}/lock`;
  const rows: Row[] = [];
  const N = 200000;
  try {
    for (const kind of ["flock", "ofd"] as const) {
      const c = await median(RUNS, async () => Number(await run(lockC, [path, kind, String(N)])));
      const ipckit = await median(
        RUNS,
        async () => Number(await runDeno("./_lock_run.ts", [path, `ipckit-${kind}`, String(N)])),
      );
      const row: Row = {
        mechanism: "lock",
        case: `uncontended ${kind} lock+unlock`,
        kind: "time",
        ipckit,
        c,
        goal: 3,
      };
      if (kind === "flock") {
        row.deno = await median(
          RUNS,
          async () => Number(await runDeno("./_lock_run.ts", [path, "deno", String(N)])),
        );
        row.denoLabel = "FsFile.lockSync";
      }
      rows.push(row);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const sigC = await compileC("signal_pingpong");
  const M = 5000;
  const c = await median(RUNS, async () => Number(await run(sigC, [String(M)])));
  const script = new URL("./_signal_pingpong.ts", import.meta.url).pathname;
  const ipckit = await median(RUNS, async () =>
    Number(
      await run("env", [
        "--block-signal=USR2",
        Deno.execPath(),
        "run",
        "-A",
        "--no-check",
        script,
        "ipckit",
        String(M),
      ]),
    ));
  const deno = await median(
    RUNS,
    async () => Number(await runDeno("./_signal_pingpong.ts", ["deno", String(M)])),
  );
  rows.push({
    mechanism: "signal",
    case: "round trip between two processes (SIGUSR2)",
    kind: "time",
    ipckit,
    c,
    deno,
    denoLabel: "addSignalListener",
    // Floor: each side waits through the shared reactor, one pool round trip
    // (15-38 µs measured, PITFALLS.md) per received signal.
    goal: 20,
  });
  return rows;
};
