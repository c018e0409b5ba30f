/**
 * `eventfd`: a 64-bit counter in the kernel behind a descriptor, the
 * cheapest cross-process wake-up. Pass it to another process (over a socket
 * with `sendFds`, or to a child with `withInheritedFds`) and either side can
 * `post()` and `wait()`, the semaphore verbs. In semaphore mode each
 * `wait()` takes 1; otherwise it takes the whole count.
 *
 * @example
 * ```ts
 * import { createEventFd } from "@ipckit/ipckit";
 * using ev = createEventFd();
 * ev.post(3);
 * console.log(await ev.wait({ timeout: 1000 })); // 3n
 * ```
 *
 * @module
 */
import { describe, objectOf, optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { invalidArgument, ipcError, sys, trySys } from "./_errors.ts";
import { Descriptor } from "./fd.ts";
import { Deadline, spinnerFor, untilReady, type WaitOptions } from "./wait.ts";

/** Largest value the counter can hold (2^64 − 2). */
export const EVENTFD_MAX = 0xfffffffffffffffen;

/** Options for {@linkcode createEventFd}. */
export interface EventFdOptions {
  /** Initial counter value (0 to 2^32 − 1, the kernel's limit here); default 0. */
  initial?: number;
  /** Semaphore mode: each `wait()` takes 1 instead of the whole count. */
  semaphore?: boolean;
  /** Close in programs this process starts (default `true`). */
  closeOnExec?: boolean;
}

/**
 * An eventfd counter: a {@linkcode Descriptor} whose reads and writes are
 * always exactly 8 bytes, so it has no byte I/O; use `post`/`wait`.
 *
 * @example Posts add up until a wait takes the whole count
 * ```ts
 * import { createEventFd } from "@ipckit/ipckit";
 * using ev = createEventFd();
 * console.log(ev.tryWait()); // null: nothing posted yet
 * setTimeout(() => {
 *   ev.post();
 *   ev.post(2);
 * }, 10);
 * console.log(await ev.wait({ timeout: 1000 })); // 3n: both posts, in one read
 * ```
 */
export class EventFd extends Descriptor {
  readonly #buf = new BigUint64Array(1);
  readonly #bytes = new Uint8Array(this.#buf.buffer);

  /**
   * Wraps an eventfd descriptor, e.g. one received with `receiveFds`
   * (pass `handle.release()`).
   *
   * @example
   * ```ts
   * import { createEventFd, EventFd } from "@ipckit/ipckit";
   * const a = createEventFd();
   * using b = new EventFd(a.release());
   * b.post();
   * ```
   */
  constructor(fd: number, options: { name?: string } = {}) {
    optionsObject(options, "eventfd", objectOf(fd));
    super(fd, { name: options.name ?? `eventfd ${objectOf(fd)}` });
  }

  #write(v: bigint): true | null {
    const fd = this.fd;
    this.#buf[0] = v;
    return trySys(() => libc().write(fd, this.#bytes, 8n), "write", this.name) === null
      ? null
      : true;
  }

  /**
   * Adds `n` (default 1) to the counter if it fits now: `true`, or `null`
   * (nothing added) if it would overflow until someone waits.
   */
  tryPost(n: number | bigint = 1): true | null {
    return this.#write(amount(n, this.name));
  }

  /**
   * Adds `n` (default 1) to the counter now. Like `sem_post`, it never
   * waits: a counter that would overflow is an error.
   *
   * @throws {IpcError} EAGAIN if the counter would overflow (use
   * {@linkcode postWhenRoom} to wait); EINVAL for `n` outside 1..2^64-2.
   */
  post(n: number | bigint = 1): void {
    if (this.tryPost(n) === null) {
      throw ipcError({
        code: "EAGAIN",
        syscall: "write",
        object: this.name,
        detail: "the counter would overflow",
        hint: "use postWhenRoom() to wait until someone takes it",
      });
    }
  }

  /** Adds `n` to the counter once there is room (waits while it would overflow). */
  async postWhenRoom(n: number | bigint = 1, options?: WaitOptions): Promise<void> {
    const v = amount(n, this.name);
    const deadline = new Deadline(options, "write", this.name);
    if (this.#write(v) === null) {
      await untilReady(this.fd, "write", () => this.#write(v), deadline, spinnerFor(this));
    }
  }

  /**
   * Takes the count now (semaphore mode: takes 1) and returns it, or `null`
   * if the counter is 0.
   */
  tryWait(): bigint | null {
    const fd = this.fd;
    const n = trySys(() => libc().read(fd, this.#bytes, 8n), "read", this.name);
    return n === null ? null : this.#buf[0];
  }

  /** Waits until the counter is non-zero, then takes it (semaphore mode: takes 1). */
  async wait(options?: WaitOptions): Promise<bigint> {
    const deadline = new Deadline(options, "read", this.name);
    return this.tryWait() ??
      await untilReady(this.fd, "read", () => this.tryWait(), deadline, spinnerFor(this));
  }
}

function amount(n: number | bigint, name: string): bigint {
  const v = typeof n === "bigint" ? n : Number.isSafeInteger(n) ? BigInt(n) : -1n;
  if (v < 1n || v > EVENTFD_MAX) {
    throw invalidArgument(
      "write",
      name,
      `eventfd increments must be 1 to 2^64-2, got ${describe(n)}`,
    );
  }
  return v;
}

/**
 * `eventfd()`: a new counter, non-blocking and close-on-exec.
 *
 * @example
 * ```ts
 * import { createEventFd } from "@ipckit/ipckit";
 * using sem = createEventFd({ initial: 2, semaphore: true });
 * console.log(sem.tryWait(), sem.tryWait(), sem.tryWait()); // 1n 1n null
 * ```
 * @throws {IpcError} EMFILE when out of descriptors.
 */
export function createEventFd(options: EventFdOptions = {}): EventFd {
  const C = unistd();
  options = optionsObject(options, "eventfd", "eventfd");
  const initial = options.initial ?? 0;
  if (!Number.isInteger(initial) || initial < 0 || initial > 0xffffffff) {
    throw invalidArgument(
      "eventfd",
      "eventfd",
      `initial must be 0 to 2^32-1, got ${describe(initial)}`,
    );
  }
  let flags = C.EFD_NONBLOCK | C.EFD_SEMAPHORE * (options.semaphore ? 1 : 0);
  if (options.closeOnExec ?? true) flags |= C.EFD_CLOEXEC;
  const fd = sys(() => libc().eventfd(initial, flags), "eventfd");
  return new EventFd(fd, { name: `eventfd ${fd}` });
}
