/**
 * The short wait on the JS thread in front of every parked wait
 * ({@linkcode Spinner}), one per waiting object ({@linkcode spinnerFor}).
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { off } from "../ffi/struct.ts";
import { unistdLayout } from "../ffi/unistd.ts";
import { reactor } from "./_reactor.ts";

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
    const busyEnd = now + SPIN_BUSY_US / 1000;
    let left = budgetUs;
    do {
      if (fd === undefined || performance.now() < busyEnd) lib.sched_yield();
      else shortPoll(fd, events!, left);
      const r = attempt();
      if (r !== null) {
        this.#misses = 0;
        return r;
      }
      left = (end - performance.now()) * 1000;
    } while (left > 0);
    if (full) this.#misses++;
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

const spinners = new WeakMap<object, Spinner>();

/** The {@linkcode Spinner} of one waiting object (a handle, a queue), made on first use. */
export function spinnerFor(owner: object): Spinner {
  let s = spinners.get(owner);
  if (!s) spinners.set(owner, s = new Spinner());
  return s;
}
