/**
 * Waiting without blocking the event loop: the one mechanism every blocking
 * ipckit operation uses.
 *
 * Every wait is "try on this thread, and if it would block, wait for a hint,
 * then try again". The try is a non-blocking call on the JS thread, so its
 * errno is this thread's and is right. The hint comes from one of two places:
 *
 * - **Descriptors** (pipes, FIFOs, sockets, message queues, eventfd...): one
 *   reactor for the whole isolate runs a single `poll()` on Deno's blocking
 *   pool over every registered descriptor plus a wake-up eventfd. Hundreds of
 *   concurrent waits cost one pool thread, so Deno's own I/O (which shares the
 *   32-thread pool) never starves. The poll is woken when a wait is added or
 *   given up, and ends when nobody waits, so it never keeps the process alive
 *   for a caller that left.
 * - **Objects without a descriptor** (semaphores, System V, record locks): a
 *   timed wait of at most 250 ms on the pool, with at most
 *   {@linkcode MAX_PARKED} of them at once; further waiters poll with a short
 *   backoff on timers instead of taking pool threads. A slice that acquired
 *   the object after the caller gave up hands it back.
 *
 * Every wait takes {@linkcode WaitOptions}: `timeout` rejects with a
 * `TimedOut` {@linkcode IpcError} (code `ETIMEDOUT`), `signal` rejects with the
 * signal's reason, both promptly.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { off } from "../ffi/struct.ts";
import { unistd, unistdLayout } from "../ffi/unistd.ts";
import { invalidArgument, IpcError, sys, timedOut, trySys } from "./_errors.ts";

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
    const given = options?.timeout;
    const timeout = given === undefined ? Infinity : given;
    if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
      throw invalidArgument(
        syscall,
        object,
        `timeout must be a number of milliseconds >= 0, got ${String(options?.timeout)}`,
      );
    }
    const signal = options?.signal;
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

interface FdWaiter {
  fd: number;
  events: number;
  resolve(revents: number): void;
  reject(reason: unknown): void;
}

/** Most events taken from one `epoll_wait`. */
const MAX_EVENTS = 64;

/**
 * The isolate's single wait loop: one epoll instance whose interest list is
 * kept up to date from this thread (`epoll_ctl`, one-shot per wait), and one
 * `epoll_wait` on Deno's pool while anyone waits. Adding or giving up a wait
 * therefore never interrupts the pending pool call, and a wake-up costs the
 * same with 1 or 1000 descriptors registered.
 */
class Reactor {
  /** Pending waits by descriptor. */
  readonly #byFd = new Map<number, FdWaiter[]>();
  /** Events each descriptor is armed for (one-shot: dropped when it fires). */
  readonly #armed = new Map<number, number>();
  /** Descriptors in the interest list, armed or spent. */
  readonly #known = new Set<number>();
  #count = 0;
  #running = false;
  #epfd = -1;
  #wakeFd = -1;
  readonly #drain = new Uint8Array(8);
  readonly #one = new BigUint64Array([1n]);
  // Off-heap (own ArrayBuffers over 64 bytes), as FFI "buffer" arguments prefer.
  readonly #ctl = new Uint8Array(new ArrayBuffer(128));
  readonly #ctlView = new DataView(this.#ctl.buffer);
  #events?: Uint8Array<ArrayBuffer>;

  add(w: FdWaiter): void {
    this.#open();
    let list = this.#byFd.get(w.fd);
    if (!list) this.#byFd.set(w.fd, list = []);
    list.push(w);
    this.#count++;
    let pollable: boolean;
    try {
      pollable = this.#arm(w.fd, list);
    } catch (e) {
      this.remove(w);
      throw e;
    }
    if (!pollable) {
      // Not pollable (a regular file: always ready, as poll() says) or not
      // open: let the caller's next attempt find out.
      this.remove(w);
      w.resolve(w.events);
      return;
    }
    if (!this.#running) this.#run();
  }

  remove(w: FdWaiter): void {
    const list = this.#byFd.get(w.fd);
    const i = list ? list.indexOf(w) : -1;
    if (i < 0) return;
    list!.splice(i, 1);
    this.#count--;
    if (list!.length === 0) {
      this.#byFd.delete(w.fd);
      if (this.#armed.has(w.fd)) this.#forget(w.fd);
    }
    // Nobody left: end the pending epoll_wait so it keeps nothing alive.
    if (this.#count === 0 && this.#running) this.#wake();
  }

  /** Rejects every wait on `fd` and drops it from the interest list (its handle is closing). */
  cancelFd(fd: number, reason: unknown): void {
    for (const w of this.#byFd.get(fd) ?? []) {
      this.remove(w);
      w.reject(reason);
    }
    if (this.#known.has(fd)) this.#forget(fd);
  }

  get size(): number {
    return this.#count;
  }

  #open(): void {
    if (this.#epfd >= 0) return;
    const lib = libc();
    const C = unistd();
    const epfd = sys(() => lib.epoll_create1(C.EPOLL_CLOEXEC), "epoll_create1", "ipckit reactor");
    this.#wakeFd = sys(
      () => lib.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC),
      "eventfd",
      "ipckit reactor",
    );
    this.#epfd = epfd;
    // The wake-up eventfd stays registered, level-triggered.
    this.#ctlOp(C.EPOLL_CTL_ADD, this.#wakeFd, C.POLLIN);
    this.#known.add(this.#wakeFd);
  }

  /** epoll_ctl(op, fd, events) with `data` = fd; throws the IpcError. */
  #ctlOp(op: number, fd: number, events: number, wouldBlock?: string[]): number | null {
    const L = unistdLayout().epoll_event;
    const v = this.#ctlView;
    v.setUint32(off(L, "events"), events >>> 0, true);
    v.setInt32(off(L, "data"), fd, true);
    v.setInt32(off(L, "data") + 4, 0, true);
    const epfd = this.#epfd;
    return trySys(
      () => libc().epoll_ctl(epfd, op, fd, this.#ctl),
      "epoll_ctl",
      fd,
      undefined,
      wouldBlock,
    );
  }

  /** Arms `fd` one-shot for what `list` waits for; false if it cannot be polled. */
  #arm(fd: number, list: FdWaiter[]): boolean {
    let events = 0;
    for (const w of list) events |= w.events;
    if (this.#armed.get(fd) === events) return true;
    const C = unistd();
    const want = events | C.EPOLLONESHOT;
    try {
      // A descriptor we registered before is re-armed; one we do not know,
      // or that was closed and reopened under the same number, is added.
      const again = this.#known.has(fd) &&
        this.#ctlOp(C.EPOLL_CTL_MOD, fd, want, ["ENOENT"]) !== null;
      if (!again && this.#ctlOp(C.EPOLL_CTL_ADD, fd, want, ["EEXIST"]) === null) {
        this.#ctlOp(C.EPOLL_CTL_MOD, fd, want);
      }
    } catch (e) {
      const code = (e as IpcError).code;
      if (code === "EPERM" || code === "EBADF") return false;
      throw e;
    }
    this.#known.add(fd);
    this.#armed.set(fd, events);
    return true;
  }

  /** Drops `fd` from the interest list (errors ignored: it may be closed already). */
  #forget(fd: number): void {
    this.#armed.delete(fd);
    this.#known.delete(fd);
    try {
      this.#ctlOp(unistd().EPOLL_CTL_DEL, fd, 0, ["ENOENT", "EBADF"]);
    } catch {
      // Nothing to undo.
    }
  }

  #wake(): void {
    libc().write(this.#wakeFd, this.#one, 8n);
  }

  async #run(): Promise<void> {
    const lib = libc();
    const C = unistd();
    const L = unistdLayout().epoll_event;
    const [eventsAt, dataAt] = [off(L, "events"), off(L, "data")];
    const buf = this.#events ??= new Uint8Array(L.size * MAX_EVENTS);
    const view = new DataView(buf.buffer);
    const always = C.POLLERR | C.POLLHUP | C.POLLNVAL;
    this.#running = true;
    try {
      while (this.#count > 0) {
        // A hint only: errno after a pool call belongs to another thread.
        const n = await lib.epoll_wait_nb(this.#epfd, buf, MAX_EVENTS, 1000);
        stats.polls++;
        for (let i = 0; i < n; i++) {
          const revents = view.getUint32(i * L.size + eventsAt, true);
          const fd = view.getInt32(i * L.size + dataAt, true);
          if (fd === this.#wakeFd) {
            lib.read(this.#wakeFd, this.#drain, 8n);
            continue;
          }
          this.#armed.delete(fd); // one-shot: spent
          const list = this.#byFd.get(fd);
          if (!list) continue;
          const rest: FdWaiter[] = [];
          for (const w of list) {
            if ((revents & (w.events | always)) !== 0) {
              this.#count--;
              w.resolve(revents);
            } else rest.push(w);
          }
          if (rest.length === 0) this.#byFd.delete(fd);
          else {
            this.#byFd.set(fd, rest);
            if (!this.#arm(fd, rest)) {
              for (const w of rest) (this.remove(w), w.resolve(w.events));
            }
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

const reactor = new Reactor();

/**
 * Counters of how waits ended, for benchmarks and diagnostics: spins that
 * found the object ready, spins that did not, and pool calls made by the
 * reactor.
 */
export const stats = { spinWins: 0, spinMisses: 0, polls: 0 };

/** Poll event bits to wait for. */
export type Interest = "read" | "write" | number;

function eventsOf(interest: Interest): number {
  const C = unistd();
  if (interest === "read") return C.POLLIN;
  if (interest === "write") return C.POLLOUT;
  return interest;
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

/** Longest a {@linkcode Spinner} holds the event loop, in microseconds. */
export const SPIN_MAX_US = 500;
/**
 * How long a {@linkcode Spinner} with a descriptor retries on the CPU
 * (yielding between tries) before it sleeps in `ppoll` for the rest of its
 * budget: an answer within this catches no timer (arming and cancelling a
 * timer for a sleep cost several µs per wake-up on these VMs).
 */
export const SPIN_BUSY_US = 30;
/** Shortest spin a {@linkcode Spinner} keeps trying, in microseconds. */
export const SPIN_MIN_US = 4;
/** Failed full spins in a row after which a {@linkcode Spinner} drops to {@linkcode SPIN_MIN_US}. */
export const SPIN_GIVE_UP = 4;
/** A short {@linkcode Spinner} tries a full spin again every this many waits. */
export const SPIN_PROBE_EVERY = 16;
/** Parked descriptor waits from which every {@linkcode Spinner} keeps to {@linkcode SPIN_MIN_US}. */
export const SPIN_CROWD = 8;

/**
 * A short wait on the JS thread in front of a parked wait, one per object (a
 * handle, a queue, a semaphore). Handing a wait to Deno's pool and back
 * costs 20 to 100 µs here, and Deno's timers tick in about 2 ms, so a peer
 * that answers within microseconds (request/response traffic, a streaming
 * producer) would pay far more than the answer takes. Before parking, a
 * wait retries its non-blocking attempt on this thread, calling
 * `sched_yield()` between tries so that a peer sharing this CPU gets to
 * run. A wait with a descriptor does that for {@linkcode SPIN_BUSY_US} only,
 * then sleeps in the kernel for the rest (`ppoll` with a microsecond
 * timeout), so the peer's write wakes it as directly as it would wake a C
 * program, without burning the CPU the peer may need.
 *
 * The budget is two-valued, which keeps two ipckit peers from settling into
 * different modes from run to run: a full {@linkcode SPIN_MAX_US} (longer
 * than a parked peer takes to wake up and answer, so one side still waiting
 * here pulls a parked side back) while these short waits succeed, and
 * {@linkcode SPIN_MIN_US} after {@linkcode SPIN_GIVE_UP} full ones in a row
 * found nothing (an idle object costs a few microseconds per wait), with a
 * full one every {@linkcode SPIN_PROBE_EVERY} waits so that traffic that
 * turns dense again is noticed. (A budget halved on every miss, as before,
 * collapsed for good once both peers happened to park at the same time: the
 * slow mode fed itself, and runs were fast or 4× slower by chance.) The
 * event loop is held at most {@linkcode SPIN_MAX_US} at a time, and only
 * {@linkcode SPIN_MIN_US} while {@linkcode SPIN_CROWD} or more waits are
 * parked.
 */
export class Spinner {
  #misses = 0;
  #waits = 0;

  /**
   * Retries `attempt` for the current budget; its value, or `null`. With
   * `fd` (and its poll `events`), sleeps in the kernel after
   * {@linkcode SPIN_BUSY_US}.
   */
  spin<T>(attempt: () => T | null, fd?: number, events?: number): T | null {
    // With many waits parked the event loop has other work: stay short.
    const full = reactor.size < SPIN_CROWD &&
      (this.#misses < SPIN_GIVE_UP || ++this.#waits % SPIN_PROBE_EVERY === 0);
    const budgetUs = full ? SPIN_MAX_US : SPIN_MIN_US;
    const now = performance.now();
    const end = now + budgetUs / 1000;
    const lib = libc();
    // The first SPIN_BUSY_US (or all of it, without a descriptor) retry
    // with a yield in between; then a descriptor sleeps in ppoll.
    const busyEnd = fd === undefined ? end : now + SPIN_BUSY_US / 1000;
    let left = budgetUs;
    do {
      if (performance.now() < busyEnd) lib.sched_yield();
      else shortPoll(fd!, events!, left);
      const r = attempt();
      if (r !== null) {
        this.#misses = 0;
        stats.spinWins++;
        return r;
      }
      left = (end - performance.now()) * 1000;
    } while (left > 0);
    if (full) this.#misses++;
    stats.spinMisses++;
    return null;
  }
}

interface ShortArgs {
  fds: Uint8Array<ArrayBuffer>;
  fdView: DataView;
  ts: Uint8Array<ArrayBuffer>;
  tsView: DataView;
}
let shortArgs: ShortArgs | undefined;

/** One synchronous `ppoll` of `fd` for at most `us` microseconds; only a hint, errno unread. */
function shortPoll(fd: number, events: number, us: number): void {
  const L = unistdLayout().pollfd;
  if (shortArgs === undefined) {
    // Off-heap (own ArrayBuffers over 64 bytes): V8 keeps small ones on its
    // heap, which FFI "buffer" arguments pay for on every call.
    const fds = new Uint8Array(new ArrayBuffer(128), 0, L.size);
    const ts = new Uint8Array(new ArrayBuffer(128), 0, 16);
    shortArgs = { fds, fdView: new DataView(fds.buffer), ts, tsView: new DataView(ts.buffer) };
  }
  const { fds, fdView, ts, tsView } = shortArgs;
  fdView.setInt32(off(L, "fd"), fd, true);
  fdView.setInt16(off(L, "events"), events, true);
  fdView.setInt16(off(L, "revents"), 0, true);
  // struct timespec { time_t tv_sec; long tv_nsec; } on 64-bit arches: 0 s, < 1e9 ns.
  tsView.setBigInt64(0, 0n, true);
  tsView.setUint32(8, Math.max(1000, Math.min(999_999_999, Math.floor(us * 1000))), true);
  tsView.setUint32(12, 0, true);
  libc().ppoll(fds, 1n, ts, null);
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
  // Callers have usually just tried: the spin sleeps first (ppoll returns at
  // once if the descriptor is ready), so a wait costs no extra failed call.
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

const spinners = new WeakMap<object, Spinner>();

/** The {@linkcode Spinner} of one waiting object (a handle, a queue), made on first use. */
export function spinnerFor(owner: object): Spinner {
  let s = spinners.get(owner);
  if (!s) spinners.set(owner, s = new Spinner());
  return s;
}
