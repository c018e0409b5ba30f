/**
 * Process descriptors (`pidfd_open`): signals that cannot reach a process
 * that reused the pid, and a wait for exit that does not need
 * `ChildProcess.status` (which throws on realtime signals in Deno).
 *
 * @module
 */
import { objectOf, optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { signal as signalConstants, signalLayout } from "../ffi/signal.ts";
import { unistd, unistdLayout } from "../ffi/unistd.ts";
import { getField, setField } from "../ffi/struct.ts";
import { sys } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import { startWait, untilReady, type WaitOptions } from "./wait.ts";
import { signalNumber, type SignalSpec } from "./_signal_names.ts";
import { checkPid, checkValue, type SendSignalOptions } from "./_signal_send.ts";

function siginfoFor(n: number, value: number): Uint8Array<ArrayBuffer> {
  const L = signalLayout().siginfo_t;
  const C = signalConstants();
  const buf = new Uint8Array(L.size);
  const v = new DataView(buf.buffer);
  setField(v, L, "si_signo", n);
  setField(v, L, "si_code", C.SI_QUEUE);
  setField(v, L, "si_pid", Deno.pid);
  setField(v, L, "si_uid", libc().getuid());
  setField(v, L, "si_value", value);
  return buf;
}

/**
 * A process descriptor (`pidfd_open`): signals sent through it reach the
 * process it was opened for or fail with ESRCH, never a process that reused
 * the pid. Readable once the process exits.
 *
 * @example Stopping a child and waiting for it to exit
 * ```ts
 * import { openPidfd } from "@ipckit/ipckit";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * using pidfd = openPidfd(child.pid);
 * console.log(pidfd.hasExited()); // false
 * pidfd.send("SIGTERM");
 * await pidfd.exited({ timeout: 5000 });
 * console.log(pidfd.hasExited(), (await child.status).signal); // true SIGTERM
 * ```
 */
export class Pidfd extends FdHandle {
  /** The pid the descriptor was opened for. */
  readonly pid: number;

  /** @internal Use {@linkcode openPidfd}. */
  constructor(fd: number, pid: number) {
    super(fd, { name: `pidfd ${objectOf(pid)}` });
    this.pid = pid;
  }

  /**
   * Sends `sig` (`pidfd_send_signal`), with a `sigqueue`-style value if given.
   *
   * @throws {IpcError} ESRCH once the process has exited; EINVAL for a bad
   * signal or value; `BadResource` after close.
   */
  send(sig: SignalSpec, options: SendSignalOptions = {}): void {
    const o = optionsObject(options, "pidfd_send_signal", this.name);
    const n = signalNumber(sig, { allowZero: true });
    const info = o.value === undefined
      ? null
      : siginfoFor(n, checkValue(o.value, "pidfd_send_signal", this.name));
    const fd = this.fd;
    const lib = libc();
    const C = signalConstants();
    sys(
      () =>
        lib.pidfd_send_signal
          ? lib.pidfd_send_signal(fd, n, info, 0)
          : lib.syscall_pidfd_send_signal(BigInt(C.SYS_pidfd_send_signal), fd, n, info, 0),
      "pidfd_send_signal",
      this.name,
      { kind: "process" },
    );
  }

  /** Whether the process has exited (the descriptor is readable). Never waits. */
  hasExited(): boolean {
    const fd = this.fd;
    const L = unistdLayout().pollfd;
    const pfd = new Uint8Array(L.size);
    const v = new DataView(pfd.buffer);
    setField(v, L, "fd", fd);
    setField(v, L, "events", unistd().POLLIN);
    sys(() => libc().poll(pfd, 1n, 0), "poll", this.name);
    return getField(v, L, "revents") !== 0;
  }

  /** Resolves once the process has exited (it may not be reaped yet). */
  async exited(options?: WaitOptions): Promise<void> {
    const deadline = startWait(options, "poll", this.name);
    await untilReady(this.fd, "read", () => this.hasExited() ? true : null, deadline);
  }
}

/**
 * Opens a pidfd for a pid, or for a `Deno.ChildProcess`. Open it while you
 * know the pid is the right process (for a child: right after spawning,
 * before it is reaped). Given the child itself, it also keeps Deno's
 * `child.status` from ending the script with `TypeError: Invalid signal`
 * when the child dies of a realtime signal (a Deno bug): wait with
 * {@linkcode Pidfd.exited} then.
 *
 * @example
 * ```ts
 * import { openPidfd } from "@ipckit/ipckit";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * using pidfd = openPidfd(child.pid);
 * pidfd.send("SIGTERM");
 * await pidfd.exited({ timeout: 5000 });
 * await child.status;
 * ```
 * @example A child stopped with a realtime signal
 * ```ts
 * import { openPidfd } from "@ipckit/ipckit";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * using pidfd = openPidfd(child);
 * pidfd.send("SIGRTMIN+1", { value: 42 });
 * await pidfd.exited({ timeout: 5000 });
 * ```
 * @throws {IpcError} ESRCH if no such process; EINVAL for pid ≤ 0.
 */
export function openPidfd(target: number | Deno.ChildProcess): Pidfd {
  let pid = target as number;
  if (typeof target === "object" && target !== null && "pid" in target && "status" in target) {
    pid = target.pid;
    // Deno rejects `child.status` with "TypeError: Invalid signal" when the
    // child dies of a realtime signal, and an unhandled rejection ends the
    // script: handle it here (the caller's own `await child.status` still
    // sees it) and wait with `exited()` instead.
    target.status.catch(() => {});
  }
  checkPid(pid, "pidfd_open");
  const lib = libc();
  const C = signalConstants();
  const fd = sys(
    () =>
      lib.pidfd_open
        ? lib.pidfd_open(pid, 0)
        : lib.syscall_pidfd_open(BigInt(C.SYS_pidfd_open), pid, 0),
    "pidfd_open",
    pid,
    { kind: "process" },
  );
  return new Pidfd(fd, pid);
}
