/**
 * Sending signals by pid or process group (`kill`, `sigqueue`), and the
 * argument checks the pidfd path shares.
 *
 * @module
 */
import { describe, objectOf, optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { invalidArgument, sys } from "./_errors.ts";
import { signalNumber, type SignalSpec } from "./_signal_names.ts";

export function checkPid(pid: unknown, syscall: string, what = "pid"): number {
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0 || pid > 0x3fffffff) {
    throw invalidArgument(
      syscall,
      objectOf(pid),
      `${what} must be a positive integer, got ${describe(pid)}` +
        (typeof pid === "number" && pid <= 0
          ? ` (0 and negative pids address process groups or every process: use sendSignalToGroup())`
          : ""),
    );
  }
  return pid;
}

export function checkValue(
  value: unknown,
  syscall: string,
  object: string | number | undefined,
): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31
  ) {
    throw invalidArgument(
      syscall,
      object,
      `value must be a 32-bit integer, got ${describe(value)}`,
    );
  }
  return value;
}

/** Options for sending. */
export interface SendSignalOptions {
  /**
   * An integer delivered with the signal (`sigqueue`); the receiver reads it
   * from siginfo (signalfd mode, or `ipckit signal wait`).
   */
  value?: number;
}

/**
 * Sends `sig` to process `pid` (`kill`, or `sigqueue` with a value). Signal
 * 0 only checks that the process exists and may be signalled. For a child
 * you started, prefer {@linkcode openPidfd}: a pid can be reused once the
 * process is reaped.
 *
 * @example
 * ```ts
 * import { sendSignal } from "@ipckit/ipckit";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * sendSignal(child.pid, "SIGTERM", { value: 42 }); // sigqueue
 * await child.status;
 * ```
 * @throws {IpcError} EINVAL for pid ≤ 0, an unknown signal or a bad value;
 * ESRCH if no such process; `PermissionDenied` (EPERM).
 */
export function sendSignal(pid: number, sig: SignalSpec, options: SendSignalOptions = {}): void {
  const o = optionsObject(options, "kill", objectOf(pid));
  const syscall = o.value === undefined ? "kill" : "sigqueue";
  checkPid(pid, syscall);
  const n = signalNumber(sig, { allowZero: true });
  const lib = libc();
  if (o.value === undefined) {
    sys(() => lib.kill(pid, n), "kill", pid, { kind: "process" });
  } else {
    const v = BigInt(checkValue(o.value, "sigqueue", objectOf(pid)));
    sys(() => lib.sigqueue(pid, n, v), "sigqueue", pid, { kind: "process" });
  }
}

/**
 * Sends `sig` to every process in process group `pgid` (`kill(-pgid)`).
 *
 * @example
 * ```ts
 * import { sendSignalToGroup } from "@ipckit/ipckit";
 * const child = new Deno.Command("setsid", { args: ["sleep", "10"] }).spawn();
 * await new Promise((r) => setTimeout(r, 100));
 * sendSignalToGroup(child.pid, "SIGTERM");
 * await child.status;
 * ```
 * @throws {IpcError} EINVAL for pgid ≤ 0; ESRCH if the group is empty.
 */
export function sendSignalToGroup(pgid: number, sig: SignalSpec): void {
  checkPid(pgid, "kill", "process group id");
  const n = signalNumber(sig, { allowZero: true });
  sys(() => libc().kill(-pgid, n), "kill", -pgid, { kind: "process group" });
}

/**
 * The process group of `pid` (default: this process).
 *
 * @example A child started normally stays in our group
 * ```ts
 * import { processGroup } from "@ipckit/ipckit";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * console.log(processGroup(child.pid) === processGroup()); // true
 * child.kill();
 * await child.status;
 * ```
 */
export function processGroup(pid: number = 0): number {
  // -0 is 0 (the caller's group); FFI refuses -0 as an i32.
  const p = pid === 0 ? 0 : checkPid(pid, "getpgid");
  return sys(() => libc().getpgid(p), "getpgid", p);
}
