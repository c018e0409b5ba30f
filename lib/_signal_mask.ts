/**
 * Blocked signal masks: checking that every thread blocks a set (the
 * condition for signalfd) and re-executing the process with them blocked.
 *
 * @module
 */
import { describe, objectOf } from "./_validate.ts";
import { cstr, libc } from "../ffi/libc.ts";
import { signal as signalConstants, signalLayout } from "../ffi/signal.ts";
import { invalidArgument, ipcError, sysOnce, sysReturn } from "./_errors.ts";
import { listDir, readProcText } from "./_host.ts";
import { signalName, signalNumber, type SignalSpec } from "./_signal_names.ts";

/** Per-thread check of the blocked masks: which thread, if any, does not block a signal. */
export interface MaskReport {
  /** True if every thread blocks every signal asked about. */
  blocked: boolean;
  /** Threads seen. */
  threads: number;
  /** The first thread found not blocking one of them. */
  offender?: { tid: number; name: string; signal: string };
}

/**
 * Reads `SigBlk` of every thread (`/proc/self/task/<tid>/status`, through
 * libc so no `--allow-all` is needed) and reports whether all of them block
 * every signal in `sigs`: the condition for signalfd to be safe.
 *
 * @example
 * ```ts
 * import { blockedInEveryThread } from "@ipckit/ipckit";
 * console.log(blockedInEveryThread(["SIGUSR2"]).blocked); // false unless started blocked
 * ```
 */
export function blockedInEveryThread(sigs: SignalSpec[]): MaskReport {
  if (!Array.isArray(sigs)) {
    throw invalidArgument(
      "signal",
      objectOf(sigs),
      `give an array of signals, got ${describe(sigs)}`,
    );
  }
  const nums = sigs.map((s) => signalNumber(s));
  const tids = listDir("/proc/self/task") ?? [];
  let threads = 0;
  for (const tid of tids) {
    const status = readProcText(`/proc/self/task/${tid}/status`);
    if (status === null) continue; // thread ended
    threads++;
    const blk = /^SigBlk:\s*([0-9a-f]+)/m.exec(status);
    const mask = blk ? BigInt(`0x${blk[1]}`) : 0n;
    for (const n of nums) {
      if ((mask & (1n << BigInt(n - 1))) === 0n) {
        const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? "?";
        return {
          blocked: false,
          threads,
          offender: { tid: Number(tid), name, signal: signalName(n) },
        };
      }
    }
  }
  return { blocked: threads > 0, threads };
}

/** The environment variable that marks a process re-executed by {@linkcode execWithSignalsBlocked}. */
export const BLOCKED_ENV = "IPCKIT_SIGNALS_BLOCKED";

/**
 * Blocks `sigs` and re-executes this same program (same pid, same arguments,
 * `/proc/self/exe`), so that every thread of the new runtime starts with them
 * blocked and {@linkcode receiveSignals} can use signalfd. Sets
 * `IPCKIT_SIGNALS_BLOCKED` in the new image's environment; call it first
 * thing and only when that variable is absent. Never returns on success.
 *
 * Between this call and the new runtime's start a signal is held pending
 * (not lost). Children started later inherit the blocked mask: unblock in
 * them (for example `env --default-signal`) if they rely on these signals.
 *
 * @example
 * ```ts ignore
 * import { BLOCKED_ENV, execWithSignalsBlocked, receiveSignals } from "@ipckit/ipckit";
 * if (!Deno.env.get(BLOCKED_ENV)) execWithSignalsBlocked(["SIGRTMIN+1"]);
 * using signals = receiveSignals(["SIGRTMIN+1"], { mode: "signalfd" });
 * const s = await signals.receive();
 * console.log(s.pid, s.value);
 * ```
 * @throws {IpcError} if the mask cannot be set or `execve` fails (the mask
 * is restored first).
 */
export function execWithSignalsBlocked(sigs: SignalSpec[]): never {
  if (!Array.isArray(sigs) || sigs.length === 0) {
    throw invalidArgument("execve", "/proc/self/exe", "give an array of at least one signal");
  }
  const nums = [...new Set(sigs.map((s) => signalNumber(s)))];
  const lib = libc();
  const C = signalConstants();
  const set = new Uint8Array(signalLayout().sigset_t.size);
  lib.sigemptyset(set);
  for (const n of nums) sysOnce(() => lib.sigaddset(set, n), "sigaddset", n);
  const cmdline = readProcText("/proc/self/cmdline");
  if (!cmdline) throw ipcError({ code: "ENOENT", syscall: "execve", object: "/proc/self/cmdline" });
  const argv = cmdline.split("\0");
  if (argv.at(-1) === "") argv.pop();
  let env: Record<string, string>;
  try {
    env = Deno.env.toObject();
  } catch {
    env = Object.fromEntries(
      (readProcText("/proc/self/environ") ?? "").split("\0").filter(Boolean).map((kv) => {
        const i = kv.indexOf("=");
        return [kv.slice(0, i), kv.slice(i + 1)];
      }),
    );
  }
  env[BLOCKED_ENV] = nums.join(",");
  sysReturn(() => lib.pthread_sigmask(C.SIG_BLOCK, set, null), "pthread_sigmask");
  try {
    execProgram("/proc/self/exe", argv, env);
  } finally {
    lib.pthread_sigmask(C.SIG_UNBLOCK, set, null);
  }
}

/**
 * Replaces this process with `path` (`execve`): same pid, descriptors
 * without close-on-exec stay open. Never returns; throws the `execve` error
 * (ENOENT, EACCES, ...) if the program cannot be started.
 */
export function execProgram(path: string, argv: string[], env: Record<string, string>): never {
  const keep: Uint8Array[] = [];
  const array = (items: string[]) => {
    const ptrs = new BigUint64Array(items.length + 1);
    items.forEach((s, i) => {
      const b = cstr(s);
      keep.push(b);
      ptrs[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
    });
    return new Uint8Array(ptrs.buffer);
  };
  const argvBuf = array(argv);
  const envBuf = array(Object.entries(env).map(([k, v]) => `${k}=${v}`));
  const file = cstr(path);
  // Returns only on failure.
  sysOnce(() => libc().execve(file, argvBuf, envBuf), "execve", path);
  keep.length = 0;
  throw ipcError({ code: "EIO", syscall: "execve", object: path });
}
