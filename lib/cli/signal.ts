/**
 * `ipckit signal send|wait`: send a signal (with a `sigqueue` value, through
 * a pidfd, or to a process group) and wait for signals, printing the
 * sender's pid, uid and value.
 *
 * `wait` needs siginfo, which only signalfd gives, and signalfd is only
 * correct when every thread blocks the signals. When `ipckit` is the process
 * (not imported by a script), `wait` blocks them and re-executes itself
 * (same pid, same arguments) so the new runtime's threads all start with
 * them blocked, then reads them from a signalfd through the reactor.
 *
 * @module
 */
import {
  BLOCKED_ENV,
  execWithSignalsBlocked,
  openPidfd,
  type ReceivedSignal,
  receiveSignals,
  sendSignal,
  sendSignalToGroup,
  signalNumber,
} from "../signal.ts";
import { invalidArgument, IpcError } from "../_errors.ts";
import { Deadline } from "../wait.ts";
import { type Command, EXIT, group, intFlag, parse, UsageError } from "./_common.ts";

let ownsProcess = false;

/**
 * Tells the signal commands that the CLI is this process's entry point, so
 * `signal wait` may re-execute it with signals blocked. `main.ts` calls it.
 */
export function cliOwnsProcess(): void {
  ownsProcess = true;
}

/** Whether the CLI is this process's entry point (see {@linkcode cliOwnsProcess}). */
export function cliIsProcess(): boolean {
  return ownsProcess;
}

/** A signal named on the command line: an unknown one is a usage error (exit 2). */
function signalArg(text: string, allowZero = false): number {
  try {
    return signalNumber(text, { allowZero });
  } catch (e) {
    if (e instanceof IpcError) throw new UsageError(`unknown signal "${text}"`);
    throw e;
  }
}

function pidArg(text: string, what: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`${what} must be a positive integer, got "${text}"`);
  }
  return n;
}

const send: Command = {
  summary: "send a signal to a process (optionally with a value, via pidfd, or to a group)",
  run(ctx) {
    const usage = "Usage: ipckit signal send PID SIGNAL [--value N] [--pidfd] [--group]\n\n" +
      "Sends SIGNAL (a name like USR2, SIGTERM, RTMIN+1, or a number; 0 checks the process\n" +
      "exists) to PID. --value N queues an integer with it (sigqueue); --pidfd sends through\n" +
      "pidfd_send_signal; --group signals process group PID instead. This is ipckit's own\n" +
      "argument order: 'ipckit kill' takes kill(1)'s command line.\n" +
      "Never use SIGUSR1 on a Deno process: it opens an unauthenticated inspector on 127.0.0.1:9229.";
    const p = parse(ctx, {
      value: { type: "string" },
      pidfd: { type: "boolean" },
      group: { type: "boolean" },
    }, usage);
    if (!p) return EXIT.ok;
    if (p.positionals.length !== 2) throw new UsageError(`expected PID and SIGNAL`);
    const pid = pidArg(p.positionals[0], "PID");
    const sig = signalArg(p.positionals[1], true);
    const value = intFlag(p.values.value, "value", { min: -(2 ** 31), max: 2 ** 31 - 1 });
    if (p.values.group && (p.values.pidfd || value !== undefined)) {
      throw new UsageError("--group cannot be combined with --pidfd or --value");
    }
    if (p.values.group) sendSignalToGroup(pid, sig);
    else if (p.values.pidfd) {
      using fd = openPidfd(pid);
      fd.send(sig, { value });
    } else sendSignal(pid, sig, { value });
    return EXIT.ok;
  },
};

function format(s: ReceivedSignal): string {
  const parts = [s.signal];
  if (s.pid !== undefined) parts.push(`pid=${s.pid}`);
  if (s.uid !== undefined) parts.push(`uid=${s.uid}`);
  if (s.value !== undefined) parts.push(`value=${s.value}`);
  if (s.code !== undefined) parts.push(`code=${s.code}`);
  return parts.join(" ");
}

const wait: Command = {
  summary: "wait for signals and print each with sender pid, uid and value",
  async run(ctx) {
    const usage = "Usage: ipckit signal wait SIGNAL... [--timeout MS] [--count N] [--json]\n\n" +
      "Waits for any of the SIGNALs and prints each as it arrives, with the sender's pid\n" +
      "and uid and the sigqueue value. Exits 0 after N signals (default 1; 0 = forever),\n" +
      "124 on timeout. The signals are blocked in every thread (the command re-executes\n" +
      "itself with them blocked) and read from a signalfd, so realtime signals work too.\n" +
      "Prints 'ipckit: waiting for ... (pid N)' on stderr once signals can be sent.";
    const p = parse(ctx, {
      timeout: { type: "string" },
      count: { type: "string" },
      json: { type: "boolean" },
    }, usage);
    if (!p) return EXIT.ok;
    if (p.positionals.length === 0) {
      throw new UsageError(`expected at least one SIGNAL`);
    }
    const nums = p.positionals.map((s) => signalArg(s));
    for (const n of nums) {
      if (n === 9 || n === 19) {
        throw new UsageError("SIGKILL and SIGSTOP cannot be caught or waited for");
      }
    }
    const timeout = intFlag(p.values.timeout, "timeout");
    const count = intFlag(p.values.count, "count") ?? 1;
    const deadline = new Deadline({ timeout }, "signal wait", p.positionals.join(","));
    if (ownsProcess && !Deno.env.get(BLOCKED_ENV)) execWithSignalsBlocked(nums);
    using signals = receiveSignals(nums);
    if (ownsProcess && signals.mode !== "signalfd") {
      throw invalidArgument("signal wait", undefined, "signals are not blocked in every thread");
    }
    ctx.err(`ipckit: waiting for ${p.positionals.join(", ")} (pid ${Deno.pid})`);
    for (let got = 0; count === 0 || got < count; got++) {
      const s = await signals.receive({ timeout: Math.ceil(deadline.remaining()) });
      if (p.values.json) ctx.json(s);
      else ctx.out(format(s));
    }
    return EXIT.ok;
  },
};

/** The `signal` command group. */
export const signalCommand: Command = group("signal", "send and wait for signals", {
  send,
  wait,
});
