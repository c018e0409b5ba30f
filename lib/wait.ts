/**
 * Waiting without blocking the event loop: the one mechanism every blocking
 * ipckit operation uses.
 *
 * Every wait is "try on this thread, and if it would block, wait for a hint,
 * then try again". The try is a non-blocking call on the JS thread, so its
 * errno is this thread's and is right. The hint comes from one of two places:
 *
 * - **Descriptors** (pipes, FIFOs, sockets, message queues, eventfd...): one
 *   reactor for the whole isolate (`lib/_reactor.ts`) keeps an epoll set of
 *   every waited-for descriptor plus a wake-up eventfd, armed one-shot from
 *   this thread, and runs a single `epoll_wait` on Deno's blocking pool.
 *   Hundreds of concurrent waits cost one pool thread, so Deno's own I/O
 *   (which shares the 32-thread pool) never starves, and a wake-up costs the
 *   same with 1 or 1000 waits. The `epoll_wait` ends when nobody waits, so it
 *   never keeps the process alive for a caller that left.
 * - **Objects without a descriptor** (semaphores, System V, record locks): a
 *   timed wait of at most 250 ms on the pool, with at most
 *   {@linkcode MAX_PARKED} of them at once; further waiters poll with a short
 *   backoff on timers instead of taking pool threads. A slice that acquired
 *   the object after the caller gave up hands it back.
 *
 * In front of both, a {@linkcode Spinner} (`lib/_spinner.ts`) waits briefly
 * on this thread, so request/response traffic and streams between busy
 * peers never pay the pool round trip.
 *
 * Every wait takes {@linkcode WaitOptions}: `timeout` rejects with a
 * `TimedOut` {@linkcode IpcError} (code `ETIMEDOUT`), `signal` rejects with the
 * signal's reason, both promptly.
 *
 * @module
 */
import { invalidArgument, IpcError, timedOut } from "./_errors.ts";
import { eventsOf, type FdWaiter, type Interest, reactor } from "./_reactor.ts";
import type { Spinner } from "./_spinner.ts";

export type { Interest } from "./_reactor.ts";
export {
  SPIN_GIVE_UP,
  SPIN_MAX_US,
  SPIN_MIN_US,
  SPIN_PROBE_EVERY,
  Spinner,
  spinnerFor,
} from "./_spinner.ts";
import { describe, optionsObject } from "./_validate.ts";

/** Options every waiting operation takes. */
export interface WaitOptions {
  /** Gives up when aborted: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Milliseconds to wait before rejecting with a `TimedOut` error (code
   * `ETIMEDOUT`). `0` tries once; omitted or `Infinity` waits forever;
   * anything else (negative, `NaN`, `null`, a string) is EINVAL before any
   * syscall.
   */
  timeout?: number;
}

/** Pool threads that semaphore-like waits may hold at once. */
export const MAX_PARKED = 4;
/** Longest time one pool call may block, so cancellation and exit stay prompt. */
export const SLICE_MS = 250;

/** A point in time by which a wait must end, with what to report if it does not. */
export class Deadline {
  readonly #end: number;
  readonly #timeout: number;
  /** The operation reported in a timeout error. */
  readonly syscall: string;
  /** The object reported in a timeout error. */
  readonly object: string | number | undefined;
  /** The caller's abort signal, if any. */
  readonly signal: AbortSignal | undefined;

  /**
   * Validates `options` (before any syscall) and starts the clock. Only an
   * omitted `timeout` means "forever": `null`, `NaN`, negatives and
   * non-numbers are EINVAL, so a computed timeout that went wrong never turns
   * into an endless wait.
   */
  constructor(options: WaitOptions | undefined, syscall: string, object?: string | number) {
    // The one place that decides what a wait's options mean: not an object
    // (null, a string, an array) and `timeout: null` are EINVAL for every wait.
    options = optionsObject(options, syscall, object);
    const given = options.timeout;
    const timeout = given === undefined ? Infinity : given;
    if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
      throw invalidArgument(
        syscall,
        object,
        `timeout must be a number of milliseconds >= 0, got ${describe(given)}`,
      );
    }
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw invalidArgument(syscall, object, "signal must be an AbortSignal");
    }
    this.#timeout = timeout;
    this.#end = performance.now() + timeout;
    this.syscall = syscall;
    this.object = object;
    this.signal = signal;
  }

  /** Milliseconds left (may be Infinity), never negative. */
  remaining(): number {
    return Math.max(0, this.#end - performance.now());
  }

  /** Throws the abort reason, or the timeout error, if the wait must end now. */
  check(): void {
    this.signal?.throwIfAborted();
    if (this.remaining() === 0) throw this.timedOut();
  }

  /** The timeout error for this wait. */
  timedOut(): IpcError {
    return timedOut(this.syscall, this.object, this.#timeout);
  }

  /**
   * Settles with `promise`, or rejects when the signal aborts or time runs
   * out, whichever comes first. `onAbandon` receives `promise`'s value if it
   * arrives after the caller was rejected (to give a resource back).
   */
  race<T>(promise: Promise<T>, onAbandon?: (value: T) => void): Promise<T> {
    const { signal } = this;
    if (signal === undefined && this.#end === Infinity) return promise;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let done = false;
      const finish = () => {
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        if (done) return;
        finish();
        reject(signal!.reason);
      };
      const arm = () => {
        const left = this.remaining();
        if (left === Infinity) return;
        timer = setTimeout(() => {
          if (done) return;
          if (this.remaining() > 0) return arm();
          finish();
          reject(this.timedOut());
        }, Math.min(left, 2 ** 30));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      arm();
      promise.then(
        (v) => {
          if (done) return onAbandon?.(v);
          finish();
          resolve(v);
        },
        (e) => {
          if (done) return;
          finish();
          reject(e);
        },
      );
    });
  }
}

/**
 * Makes the {@linkcode Deadline} of a wait and throws at once if its signal
 * is already aborted: what every wait does before its first attempt, so bad
 * options and a cancelled caller never reach a syscall.
 */
export function startWait(
  options: WaitOptions | undefined,
  syscall: string,
  object?: string | number,
): Deadline {
  const deadline = new Deadline(options, syscall, object);
  deadline.signal?.throwIfAborted();
  return deadline;
}

/**
 * Resolves with `revents` once `fd` is ready for `interest` (or in error or
 * hung up), without blocking the event loop. Rejects on timeout or abort.
 */
export function waitFd(fd: number, interest: Interest, deadline: Deadline): Promise<number> {
  deadline.check();
  let waiter!: FdWaiter;
  const ready = new Promise<number>((resolve, reject) => {
    waiter = { fd, events: eventsOf(interest), resolve, reject };
  });
  reactor.add(waiter);
  return deadline.race(ready).finally(() => reactor.remove(waiter));
}

/** Rejects every pending wait on `fd` with `reason`; handles call it as they close. */
export function cancelWaits(fd: number, reason: unknown): void {
  reactor.cancelFd(fd, reason);
}

/** Number of descriptor waits in flight (for tests and diagnostics). */
export function pendingWaits(): number {
  return reactor.size;
}

/**
 * Tries `attempt` until it returns non-null, waiting for `fd` readiness
 * between tries. The first try is synchronous; with a `spinner`, it comes
 * after a short kernel wait for readiness on this thread (see
 * {@linkcode Spinner}), before the wait is handed to the reactor.
 */
export async function untilReady<T>(
  fd: number,
  interest: Interest,
  attempt: () => T | null,
  deadline: Deadline,
  spinner?: Spinner,
): Promise<T> {
  deadline.signal?.throwIfAborted();
  // Callers have usually just tried: the spin yields and retries for
  // SPIN_BUSY_US, then sleeps in ppoll for the rest of its budget.
  const first = spinner && deadline.remaining() > 0
    ? spinner.spin(attempt, fd, eventsOf(interest))
    : attempt();
  if (first !== null) return first;
  for (;;) {
    await waitFd(fd, interest, deadline);
    deadline.signal?.throwIfAborted();
    const r = attempt();
    if (r !== null) return r;
  }
}

/** A descriptor that hints that a condition may have changed, for {@linkcode untilWatched}. */
export interface Watch {
  /** The descriptor to poll, or `undefined` to rely on the timer alone. */
  fd?: number;
  /** What to poll it for (default `"read"`). */
  interest?: Interest;
  /** Called after `fd` was ready, before the next try (e.g. to drain it). */
  onReady?(): void;
  /** Longest sleep between tries, in ms: the backoff doubles from 1 up to this. */
  maxBackoffMs?: number;
}

/**
 * Tries `attempt` until it returns non-null, for conditions a descriptor
 * only sometimes announces (a FIFO peer blocked in its own `open()` raises
 * no inotify event): between tries it waits for `watch.fd` to be ready or
 * for a timer whose delay doubles from 1 ms to `watch.maxBackoffMs`,
 * whichever comes first. The first try is immediate.
 */
export async function untilWatched<T>(
  attempt: () => T | null,
  deadline: Deadline,
  watch: Watch = {},
): Promise<T> {
  const { fd, interest = "read", onReady, maxBackoffMs = 50 } = watch;
  deadline.signal?.throwIfAborted();
  let backoff = 1;
  for (;;) {
    const r = attempt();
    if (r !== null) return r;
    deadline.check();
    const nap = Math.min(backoff, deadline.remaining());
    backoff = Math.min(backoff * 2, maxBackoffMs);
    if (fd === undefined) await deadline.race(sleep(nap));
    else if (await readyWithin(fd, interest, nap, deadline.signal)) onReady?.();
  }
}

/**
 * Whether `fd` became ready within `ms`; rejects only on abort (or a poll
 * failure). Async so that a slice already over when it starts (a slow
 * machine) is a `false`, not a synchronous throw.
 */
async function readyWithin(
  fd: number,
  interest: Interest,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  try {
    await waitFd(fd, interest, new Deadline({ timeout: ms, signal }, "poll", fd));
    return true;
  } catch (e) {
    if (e instanceof IpcError && e.code === "ETIMEDOUT") return false;
    throw e;
  }
}

/** How to wait for an object that has no descriptor to poll. */
export interface Acquirer<T> {
  /** Non-blocking try on this thread: the value, or `null` if it would block. */
  attempt(): T | null;
  /**
   * A blocking wait of at most `ms` on Deno's pool (a `nonblocking` FFI
   * call) that resolves with the value if it acquired the object, else
   * `null`. Only a hint: its errno is never read; failures are found by the
   * next `attempt()`.
   */
  park?(ms: number): Promise<T | null>;
  /** Gives back what a park acquired after the caller gave up. */
  release?(value: T): void;
}

let parked = 0;

/**
 * Waits for an object without a descriptor: tries on this thread (spinning
 * briefly first with a `spinner`), then parks
 * on the pool in slices of at most {@linkcode SLICE_MS} (at most
 * {@linkcode MAX_PARKED} at once), or, when the pool budget is taken, polls
 * with a backoff of 1 to 20 ms on timers.
 */
export async function untilAcquired<T>(
  acq: Acquirer<T>,
  deadline: Deadline,
  spinner?: Spinner,
): Promise<T> {
  let backoff = 1;
  for (let first = true;; first = false) {
    deadline.signal?.throwIfAborted();
    const r = acq.attempt() ??
      (first && spinner && deadline.remaining() > 0 ? spinner.spin(() => acq.attempt()) : null);
    if (r !== null) return r;
    const left = deadline.remaining();
    if (left === 0) throw deadline.timedOut();
    if (acq.park && parked < MAX_PARKED) {
      parked++;
      const slice = acq.park(Math.max(1, Math.min(SLICE_MS, Math.ceil(left))))
        .finally(() => parked--);
      const got = await deadline.race(slice, (v) => {
        if (v !== null) acq.release?.(v);
      });
      if (got !== null) return got;
    } else {
      await deadline.race(sleep(Math.min(backoff, left)));
      backoff = Math.min(backoff * 2, 20);
    }
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
