/**
 * Locks: uncontended lock+unlock (flock and OFD) against C and Deno's
 * `FsFile.lockSync`; signals: a round trip between two processes (send,
 * the peer receives with siginfo and answers the sender's pid) against C
 * (sigwaitinfo) and Deno's `addSignalListener` + `Deno.kill`.
 *
 * @module
 */
import { type Case, compileC, denoNumber, runNumber } from "./_harness.ts";

const N = 100000;
const M = 3000;

/** The lock and signal cases; `dir` is a scratch directory for the lock file. */
export async function lockCases(dir: string): Promise<Case[]> {
  const lockC = await compileC("lock_bench");
  const sigC = await compileC("signal_pingpong");
  const path = `${dir}/lock`;
  const cases: Case[] = [];
  for (const kind of ["flock", "ofd"] as const) {
    const k: Case = {
      mechanism: "lock",
      case: `uncontended ${kind} lock+unlock`,
      kind: "time",
      c: () => runNumber(lockC, [path, kind, String(N)]),
      ipckit: () => denoNumber("./_lock_run.ts", [path, `ipckit-${kind}`, String(N)]),
      goal: 3,
    };
    if (kind === "flock") {
      k.deno = () => denoNumber("./_lock_run.ts", [path, "deno", String(N)]);
      k.denoLabel = "FsFile.lockSync";
    }
    cases.push(k);
  }
  const script = new URL("./_signal_pingpong.ts", import.meta.url).pathname;
  cases.push({
    mechanism: "signal",
    case: "round trip between two processes (SIGUSR2)",
    kind: "time",
    c: () => runNumber(sigC, [String(M)]),
    // signalfd mode needs SIGUSR2 blocked in every thread from the start.
    ipckit: () =>
      runNumber("env", [
        "--block-signal=USR2",
        Deno.execPath(),
        "run",
        "-A",
        "--no-check",
        script,
        "ipckit",
        String(M),
      ]),
    deno: () => denoNumber("./_signal_pingpong.ts", ["deno", String(M)]),
    denoLabel: "addSignalListener",
    // Goal: at least as fast as Deno's own listener.
    goalVsDeno: true,
  });
  return cases;
}
