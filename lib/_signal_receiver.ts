/**
 * Receiving signals: {@linkcode SignalReceiver} through a signalfd (with
 * siginfo) or Deno's signal listeners, made by {@linkcode receiveSignals}.
 *
 * @module
 */
import { objectOf, optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { signal as signalConstants, signalLayout } from "../ffi/signal.ts";
import { getField } from "../ffi/struct.ts";
import { closedError, invalidArgument, ipcError, sys, sysOnce } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import { spinnerFor, startWait, untilReady, type WaitOptions } from "./wait.ts";
import { readProcText } from "./_host.ts";
import { realtimeSignalRange, signalName, signalNumber, type SignalSpec } from "./_signal_names.ts";
import { blockedInEveryThread } from "./_signal_mask.ts";

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

/** The token that makes receivers: {@linkcode receiveSignals}' only. */
const RECEIVER: unique symbol = Symbol("ipckit.SignalReceiver");

/**
 * Incoming signals, as an async iterator or one at a time. Made by
 * {@linkcode receiveSignals}; `close()` (or `using`) stops receiving.
 *
 * @example One signal at a time
 * ```ts
 * import { receiveSignals } from "@ipckit/ipckit";
 * using signals = receiveSignals(["SIGUSR1"]);
 * console.log(signals.tryReceive()); // null: nothing yet
 * Deno.kill(Deno.pid, "SIGUSR1");
 * const received = await signals.receive({ timeout: 1000 });
 * console.log(received.signal); // SIGUSR1
 * ```
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
  // One read buffer for every attempt (an allocation costs microseconds in Deno).
  #siginfo?: { bytes: Uint8Array<ArrayBuffer>; view: DataView };

  /** @internal Use {@linkcode receiveSignals}. */
  constructor(token: typeof RECEIVER, mode: "signalfd" | "listener", signals: number[]) {
    if (token !== RECEIVER) {
      throw invalidArgument("SignalReceiver", objectOf(mode), "use receiveSignals()");
    }
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
    if (!this.#siginfo) {
      const bytes = new Uint8Array(L.size);
      this.#siginfo = { bytes, view: new DataView(bytes.buffer) };
    }
    const { bytes, view: v } = this.#siginfo;
    const n = this.#fd.tryRead(bytes);
    if (n === null || n < L.size) return null;
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
    const deadline = startWait(options, "receive", "signals");
    const now = this.tryReceive();
    if (now) return now;
    if (this.#fd) {
      const fd = this.#fd;
      return untilReady(fd.fd, "read", () => this.tryReceive(), deadline, spinnerFor(fd));
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
  const mode = optionsObject(options, "receive", "signals").mode ?? "auto";
  if (!["auto", "signalfd", "listener"].includes(mode)) {
    throw invalidArgument("receive", "signals", `mode must be auto, signalfd or listener`);
  }
  const hint = (names: string) =>
    `start the process with them blocked in every thread (env --block-signal=${names} deno run ...) ` +
    "or call execWithSignalsBlocked() first";
  const shortNames = nums.map((n) => signalName(n).replace(/^SIG/, "")).join(",");
  if (mode !== "listener") {
    const report = blockedInEveryThread(nums);
    if (report.blocked) return new SignalReceiver(RECEIVER, "signalfd", nums);
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
  return new SignalReceiver(RECEIVER, "listener", nums);
}
