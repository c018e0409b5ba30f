/**
 * Signal names and numbers: `"SIGUSR2"`, `"USR2"`, `"SIGRTMIN+1"`, `12`,
 * and the C library's realtime range.
 *
 * @module
 */
import { checkFlag, describe, objectOf, optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { signal as signalConstants } from "../ffi/signal.ts";
import { invalidArgument } from "./_errors.ts";

/** A signal by name (`"SIGUSR2"`, `"USR2"`, `"SIGRTMIN+1"`) or number. */
export type SignalSpec = string | number;

let names: Map<string, number> | undefined;

function nameTable(): Map<string, number> {
  if (names) return names;
  names = new Map();
  for (const [k, v] of Object.entries(signalConstants())) {
    if (/^SIG[A-Z0-9]+$/.test(k)) names.set(k, v);
  }
  return names;
}

/**
 * The C library's realtime signal range (34..64 with glibc).
 *
 * @example
 * ```ts
 * import { realtimeSignalRange, signalName } from "@ipckit/ipckit";
 * const { min, max } = realtimeSignalRange();
 * console.log(min, max, signalName(min + 2)); // 34 64 SIGRTMIN+2
 * ```
 */
export function realtimeSignalRange(): { min: number; max: number } {
  const lib = libc();
  return { min: lib.__libc_current_sigrtmin(), max: lib.__libc_current_sigrtmax() };
}

/**
 * The number of a signal: `"SIGUSR2"`, `"usr2"`, `"SIGRTMIN+2"`,
 * `"RTMAX-1"`, `"12"` or `12`. Signal 0 (existence check) only with
 * `allowZero`.
 *
 * @example
 * ```ts
 * import { signalNumber } from "@ipckit/ipckit";
 * console.log(signalNumber("SIGTERM"), signalNumber("RTMIN+1")); // 15 35
 * ```
 * @throws {IpcError} EINVAL for an unknown name or a number outside the
 * signals user code may send (1..31 and SIGRTMIN..SIGRTMAX).
 */
export function signalNumber(sig: SignalSpec, options?: { allowZero?: boolean }): number {
  const bad = (why: string) => invalidArgument("signal", objectOf(sig), why);
  const opts = optionsObject(options, "signal", objectOf(sig));
  const allowZero = checkFlag(opts.allowZero, "allowZero", "signal", objectOf(sig));
  const { min, max } = realtimeSignalRange();
  let n: number;
  if (typeof sig === "number" || (typeof sig === "string" && /^\d+$/.test(sig))) {
    n = Number(sig);
  } else if (typeof sig === "string") {
    const upper = sig.toUpperCase();
    const full = upper.startsWith("SIG") ? upper : `SIG${upper}`;
    const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(full);
    if (rt) {
      const base = rt[1] === "MIN" ? min : max;
      const delta = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === "+" ? 1 : -1);
      n = base + delta;
      if (n < min || n > max) throw bad(`${sig} is outside SIGRTMIN..SIGRTMAX (${min}..${max})`);
      return n;
    }
    const found = nameTable().get(full);
    if (found === undefined) throw bad(`unknown signal name "${sig}"`);
    return found;
  } else {
    throw bad("a signal must be a name or a number");
  }
  if (!Number.isInteger(n)) throw bad("a signal number must be an integer");
  if (n === 0 && allowZero) return 0;
  if ((n >= 1 && n <= 31) || (n >= min && n <= max)) return n;
  throw bad(
    `signal ${n} is not one of 1..31 or ${min}..${max} (32..${min - 1} belong to the C library)`,
  );
}

/**
 * The name of a signal number: `"SIGTERM"`, `"SIGRTMIN+2"`.
 *
 * @example
 * ```ts
 * import { signalName } from "@ipckit/ipckit";
 * console.log(signalName(12)); // "SIGUSR2"
 * ```
 * @throws {IpcError} EINVAL for anything but a small non-negative integer.
 */
export function signalName(n: number): string {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 1024) {
    throw invalidArgument(
      "signal",
      objectOf(n),
      `a signal number must be an integer, got ${describe(n)}`,
    );
  }
  for (const [k, v] of nameTable()) if (v === n) return k;
  const { min, max } = realtimeSignalRange();
  if (n === min) return "SIGRTMIN";
  if (n === max) return "SIGRTMAX";
  if (n > min && n < max) return `SIGRTMIN+${n - min}`;
  return `SIG${n}`;
}
