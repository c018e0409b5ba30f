/**
 * Signals: send by pid, process group or pidfd (safe against pid reuse),
 * with `sigqueue` values and realtime signals; receive as an async iterator
 * that carries the sender's pid, uid and `sigqueue` value when the kernel
 * provides them.
 *
 * Receiving has two modes, because Deno's runtime is multi-threaded:
 *
 * - **`"listener"`** (`Deno.addSignalListener`): always safe, but only for
 *   the signals Deno accepts (no realtime signals) and without siginfo: no
 *   sender pid, no value.
 * - **`"signalfd"`**: full siginfo and realtime signals, but correct only if
 *   *every* thread of the process blocks the signals (a signal blocked on the
 *   JS thread alone is delivered to another thread and its default action
 *   kills the process). A thread's mask cannot be changed from another
 *   thread, so the process must start with them blocked:
 *   `env --block-signal=USR2 deno run ...`, or a script that calls
 *   {@linkcode execWithSignalsBlocked} first thing. ipckit checks every
 *   thread's `SigBlk` in `/proc/self/task/<tid>/status` and refuses otherwise.
 *
 * ipckit never sets a signal disposition (that silently breaks
 * `Deno.addSignalListener` for good) and never uses SIGUSR1: Deno ≥ 2.9.2
 * opens an unauthenticated inspector on 127.0.0.1:9229 when it receives
 * SIGUSR1, so anyone who can signal the process can debug it. Use SIGUSR2 or
 * a realtime signal.
 *
 * @example Telling a child to reload
 * ```ts
 * import { sendSignal } from "@ipckit/ipckit";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * sendSignal(child.pid, "SIGTERM");
 * console.log((await child.status).signal); // "SIGTERM"
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { signal as signalConstants, signalLayout } from "../ffi/signal.ts";
import { getField, setField } from "../ffi/struct.ts";
import { ERRNO } from "../ffi/errno.ts";
import { closedError, invalidArgument, ipcError, sys, sysOnce } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import { Deadline, untilReady, type WaitOptions } from "./wait.ts";
import { listDir, readProcText } from "./_host.ts";

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

/** The C library's realtime signal range (34..64 with glibc). */
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
export function signalNumber(sig: SignalSpec, { allowZero = false } = {}): number {
  const bad = (why: string) => invalidArgument("signal", String(sig), why);
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
 */
export function signalName(n: number): string {
  for (const [k, v] of nameTable()) if (v === n) return k;
  const { min, max } = realtimeSignalRange();
  if (n === min) return "SIGRTMIN";
  if (n === max) return "SIGRTMAX";
  if (n > min && n < max) return `SIGRTMIN+${n - min}`;
  return `SIG${n}`;
}

function checkPid(pid: unknown, syscall: string, what = "pid"): number {
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0 || pid > 0x3fffffff) {
    throw invalidArgument(
      syscall,
      String(pid),
      `${what} must be a positive integer, got ${String(pid)}` +
        (typeof pid === "number" && pid <= 0
          ? ` (0 and negative pids address process groups or every process: use sendSignalToGroup())`
          : ""),
    );
  }
  return pid;
}

function checkValue(value: unknown, syscall: string, object: string): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31
  ) {
    throw invalidArgument(syscall, object, `value must be a 32-bit integer, got ${String(value)}`);
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
  const syscall = options.value === undefined ? "kill" : "sigqueue";
  checkPid(pid, syscall);
  const n = signalNumber(sig, { allowZero: true });
  const lib = libc();
  if (options.value === undefined) {
    sys(() => lib.kill(pid, n), "kill", pid, { kind: "process" });
  } else {
    const v = BigInt(checkValue(options.value, "sigqueue", String(pid)));
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

/** The process group of `pid` (default: this process). */
export function processGroup(pid = 0): number {
  if (pid !== 0) checkPid(pid, "getpgid");
  return sys(() => libc().getpgid(pid), "getpgid", pid);
}

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
 */
export class Pidfd extends FdHandle {
  /** The pid the descriptor was opened for. */
  readonly pid: number;

  /** @internal Use {@linkcode openPidfd}. */
  constructor(fd: number, pid: number) {
    super(fd, { name: `pidfd ${pid}` });
    this.pid = pid;
  }

  /**
   * Sends `sig` (`pidfd_send_signal`), with a `sigqueue`-style value if given.
   *
   * @throws {IpcError} ESRCH once the process has exited; EINVAL for a bad
   * signal or value; `BadResource` after close.
   */
  send(sig: SignalSpec, options: SendSignalOptions = {}): void {
    const n = signalNumber(sig, { allowZero: true });
    const info = options.value === undefined
      ? null
      : siginfoFor(n, checkValue(options.value, "pidfd_send_signal", this.name));
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
    const pfd = new Uint8Array(8);
    const v = new DataView(pfd.buffer);
    v.setInt32(0, fd, true);
    v.setInt16(4, 1, true); // POLLIN
    sys(() => libc().poll(pfd, 1n, 0), "poll", this.name);
    return v.getInt16(6, true) !== 0;
  }

  /** Resolves once the process has exited (it may not be reaped yet). */
  async exited(options?: WaitOptions): Promise<void> {
    const deadline = new Deadline(options, "poll", this.name);
    await untilReady(this.fd, "read", () => this.hasExited() ? true : null, deadline);
  }
}

/**
 * Opens a pidfd for `pid`. Open it while you know the pid is the right
 * process (for a child: right after spawning, before it is reaped).
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
 * @throws {IpcError} ESRCH if no such process; EINVAL for pid ≤ 0.
 */
export function openPidfd(pid: number): Pidfd {
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

/** One signal received. */
export interface ReceivedSignal {
  /** Its name (`"SIGUSR2"`, `"SIGRTMIN+1"`). */
  signal: string;
  /** Its number. */
  number: number;
  /** Sender's pid (signalfd mode; 0 when the kernel sent it). */
  pid?: number;
  /** Sender's real uid (signalfd mode). */
  uid?: number;
  /** The `sigqueue` value (signalfd mode, when sent with one). */
  value?: number;
  /**
   * How it was sent (signalfd mode): `"user"` (kill), `"queue"` (sigqueue),
   * `"tkill"`, `"kernel"`, `"timer"`, `"mesgq"`, `"asyncio"`, `"sigio"`, or
   * the number.
   */
  code?: string;
}

/** Which way {@linkcode receiveSignals} receives. */
export type ReceiveMode = "auto" | "signalfd" | "listener";

/** Options for {@linkcode receiveSignals}. */
export interface ReceiveSignalsOptions {
  /**
   * `"auto"` (default) picks `"signalfd"` when every thread blocks the
   * signals, else `"listener"`; the explicit modes refuse what they cannot
   * do correctly.
   */
  mode?: ReceiveMode;
}

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

/**
 * After `Deno.addSignalListener`, every signal must show as caught in
 * `SigCgt`. If a foreign library reset the disposition through FFI after Deno
 * installed its handler, Deno still believes it is installed and the
 * listener would silently never fire: refuse instead.
 */
function checkCaught(nums: readonly number[]): void {
  const status = readProcText("/proc/self/status");
  const cgt = status && /^SigCgt:\s*([0-9a-f]+)/m.exec(status);
  if (!cgt) return;
  const mask = BigInt(`0x${cgt[1]}`);
  for (const n of nums) {
    if ((mask & (1n << BigInt(n - 1))) === 0n) {
      const name = signalName(n);
      throw ipcError({
        code: "EINVAL",
        syscall: "addSignalListener",
        object: name,
        detail: `${name} is not caught although Deno has a listener for it: something reset ` +
          "its disposition through FFI (signal/sigaction), so the listener would never fire",
        hint: "do not set signal dispositions through FFI in a Deno process",
      });
    }
  }
}

const CODES: Record<number, string> = {};

function codeName(code: number): string {
  if (Object.keys(CODES).length === 0) {
    const C = signalConstants();
    CODES[C.SI_USER] = "user";
    CODES[C.SI_KERNEL] = "kernel";
    CODES[C.SI_QUEUE] = "queue";
    CODES[C.SI_TIMER] = "timer";
    CODES[C.SI_MESGQ] = "mesgq";
    CODES[C.SI_ASYNCIO] = "asyncio";
    CODES[C.SI_SIGIO] = "sigio";
    CODES[C.SI_TKILL] = "tkill";
  }
  return CODES[code] ?? String(code);
}

interface Pending {
  resolve(s: ReceivedSignal): void;
  reject(e: unknown): void;
}

/**
 * Incoming signals, as an async iterator or one at a time. Made by
 * {@linkcode receiveSignals}; `close()` (or `using`) stops receiving.
 */
export class SignalReceiver implements Disposable, AsyncIterable<ReceivedSignal> {
  /** The mode in use. */
  readonly mode: "signalfd" | "listener";
  /** Signal numbers received. */
  readonly signals: readonly number[];
  #fd?: FdHandle;
  #queue: ReceivedSignal[] = [];
  #pending = new Set<Pending>();
  #listeners: [Deno.Signal, () => void][] = [];
  #closed = false;
  #keepAlive?: ReturnType<typeof setInterval>;

  /** @internal Use {@linkcode receiveSignals}. */
  constructor(mode: "signalfd" | "listener", signals: number[]) {
    this.mode = mode;
    this.signals = signals;
    if (mode === "signalfd") this.#openSignalfd();
    else this.#listen();
  }

  #openSignalfd(): void {
    const lib = libc();
    const C = signalConstants();
    const set = new Uint8Array(signalLayout().sigset_t.size);
    lib.sigemptyset(set);
    for (const n of this.signals) sysOnce(() => lib.sigaddset(set, n), "sigaddset", n);
    const fd = sys(() => lib.signalfd(-1, set, C.SFD_NONBLOCK | C.SFD_CLOEXEC), "signalfd");
    this.#fd = new FdHandle(fd, { name: `signalfd ${this.signals.map(signalName).join(",")}` });
  }

  #listen(): void {
    try {
      for (const n of this.signals) {
        const name = signalName(n) as Deno.Signal;
        const handler = () => this.#deliver({ signal: name, number: n });
        Deno.addSignalListener(name, handler);
        this.#listeners.push([name, handler]);
      }
      checkCaught(this.signals);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  #deliver(s: ReceivedSignal): void {
    const [first] = this.#pending;
    if (first) {
      this.#pending.delete(first);
      first.resolve(s);
    } else this.#queue.push(s);
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The next signal already received, or `null`. Never waits. */
  tryReceive(): ReceivedSignal | null {
    if (this.#closed) throw closedError("receive", "signals");
    if (this.#queue.length) return this.#queue.shift()!;
    if (!this.#fd) return null;
    const L = signalLayout().signalfd_siginfo;
    const buf = new Uint8Array(L.size);
    const n = this.#fd.tryRead(buf);
    if (n === null || n < L.size) return null;
    const v = new DataView(buf.buffer);
    const number = getField(v, L, "ssi_signo");
    const code = getField(v, L, "ssi_code", true);
    const C = signalConstants();
    const s: ReceivedSignal = {
      signal: signalName(number),
      number,
      pid: getField(v, L, "ssi_pid"),
      uid: getField(v, L, "ssi_uid"),
      code: codeName(code),
    };
    if (code === C.SI_QUEUE || code === C.SI_MESGQ || code === C.SI_TIMER) {
      s.value = getField(v, L, "ssi_int", true);
    }
    return s;
  }

  /**
   * Waits for the next signal.
   *
   * @throws {IpcError} `TimedOut` after `timeout`; `BadResource` if closed
   * (also while waiting).
   */
  async receive(options?: WaitOptions): Promise<ReceivedSignal> {
    const deadline = new Deadline(options, "receive", "signals");
    const now = this.tryReceive();
    if (now) return now;
    if (this.#fd) {
      return untilReady(this.#fd.fd, "read", () => this.tryReceive(), deadline);
    }
    let p!: Pending;
    const got = new Promise<ReceivedSignal>((resolve, reject) => (p = { resolve, reject }));
    this.#pending.add(p);
    // Deno's signal listeners do not keep the event loop alive: a waiting
    // receive() must, like any other pending wait.
    this.#keepAlive ??= setInterval(() => {}, 1 << 30);
    try {
      return await deadline.race(got, (s) => this.#queue.unshift(s));
    } finally {
      this.#pending.delete(p);
      if (this.#pending.size === 0 && this.#keepAlive !== undefined) {
        clearInterval(this.#keepAlive);
        this.#keepAlive = undefined;
      }
    }
  }

  /** Yields signals until {@linkcode close} is called. */
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedSignal> {
    while (!this.#closed) {
      try {
        yield await this.receive();
      } catch (e) {
        if (this.#closed) return;
        throw e;
      }
    }
  }

  /** Stops receiving; pending receives reject with `BadResource`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [name, h] of this.#listeners) {
      try {
        Deno.removeSignalListener(name, h);
      } catch { /* already removed */ }
    }
    this.#listeners = [];
    for (const p of [...this.#pending]) p.reject(closedError("receive", "signals"));
    this.#fd?.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const LISTENER_REFUSED = new Set(["SIGKILL", "SIGSTOP", "SIGSEGV", "SIGILL", "SIGFPE", "SIGBUS"]);

/**
 * Starts receiving `sigs`. In `"signalfd"` mode (chosen by `"auto"` when
 * every thread blocks them) each {@linkcode ReceivedSignal} carries the
 * sender's pid and uid and the `sigqueue` value; in `"listener"` mode only
 * the signal. Realtime signals need signalfd mode.
 *
 * @example A daemon loop
 * ```ts
 * import { receiveSignals } from "@ipckit/ipckit";
 * using signals = receiveSignals(["SIGHUP", "SIGTERM"]);
 * setTimeout(() => Deno.kill(Deno.pid, "SIGTERM"), 50);
 * for await (const s of signals) {
 *   if (s.signal === "SIGHUP") console.log("reload");
 *   else break;
 * }
 * ```
 * @throws {IpcError} EINVAL for an unknown signal; for `"signalfd"` when a
 * thread does not block one of them (the message names the thread); for
 * `"listener"` (or `"auto"` without the mask) with a signal Deno cannot
 * listen to, such as a realtime signal.
 */
export function receiveSignals(
  sigs: SignalSpec[],
  options: ReceiveSignalsOptions = {},
): SignalReceiver {
  if (!Array.isArray(sigs) || sigs.length === 0) {
    throw invalidArgument("receive", "signals", "give at least one signal");
  }
  const nums = [...new Set(sigs.map((s) => signalNumber(s)))];
  const mode = options.mode ?? "auto";
  if (!["auto", "signalfd", "listener"].includes(mode)) {
    throw invalidArgument("receive", "signals", `mode must be auto, signalfd or listener`);
  }
  const hint = (names: string) =>
    `start the process with them blocked in every thread (env --block-signal=${names} deno run ...) ` +
    "or call execWithSignalsBlocked() first";
  const shortNames = nums.map((n) => signalName(n).replace(/^SIG/, "")).join(",");
  if (mode !== "listener") {
    const report = blockedInEveryThread(nums);
    if (report.blocked) return new SignalReceiver("signalfd", nums);
    if (mode === "signalfd") {
      const o = report.offender!;
      throw ipcError({
        code: "EINVAL",
        syscall: "signalfd",
        object: o.signal,
        detail: `thread ${o.tid} (${o.name}) does not block ${o.signal}; a signal could be ` +
          "delivered there and kill the process",
        hint: hint(shortNames),
      });
    }
  }
  const { min } = realtimeSignalRange();
  for (const n of nums) {
    const name = signalName(n);
    if (n >= min || LISTENER_REFUSED.has(name)) {
      throw invalidArgument(
        "addSignalListener",
        name,
        `Deno cannot listen for ${name}; it can only be received through signalfd`,
        { hint: hint(shortNames) },
      );
    }
  }
  return new SignalReceiver("listener", nums);
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
  const nums = [...new Set(sigs.map((s) => signalNumber(s)))];
  const lib = libc();
  const C = signalConstants();
  const set = new Uint8Array(signalLayout().sigset_t.size);
  lib.sigemptyset(set);
  for (const n of nums) lib.sigaddset(set, n);
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
  const rc = lib.pthread_sigmask(C.SIG_BLOCK, set, null);
  if (rc !== 0) throw ipcError({ errno: rc, syscall: "pthread_sigmask" });
  lib.execve(cstr("/proc/self/exe"), argvBuf, envBuf);
  const e = ERRNO[0];
  lib.pthread_sigmask(C.SIG_UNBLOCK, set, null);
  keep.length = 0;
  throw ipcError({ errno: e, syscall: "execve", object: "/proc/self/exe" });
}
