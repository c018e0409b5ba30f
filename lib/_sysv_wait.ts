/**
 * How a System V handle waits: System V objects have no descriptor to poll,
 * so waits spin briefly, then nap on the pool or sleep on timers.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { type Acquirer, type Deadline, Spinner, untilAcquired } from "./wait.ts";

/**
 * How long a message-queue wait naps on the pool before it falls back to
 * timers. Long enough that two streaming peers (one waiting for room, the
 * other for messages) never both end up on 1–20 ms timers, which made
 * throughput drop 10× in some runs.
 */
export const NAP_PHASE_MS = 100;

/**
 * Waits for a System V object: the shared {@linkcode Spinner} first (System V
 * objects have no descriptor, and Deno's timers tick in about 2 ms here), then
 * `untilAcquired`. An acquirer without a park of its own (message queues: no
 * timed call) gets one for the first {@linkcode NAP_PHASE_MS}: `usleep` naps on
 * the pool of 50 µs doubling to 500 µs (within `untilAcquired`'s budget of
 * parked calls), after which it falls back to `untilAcquired`'s timer backoff
 * and holds no pool thread.
 */
export class SysvWaiter {
  readonly #spinner = new Spinner();

  /** Tries `acq.attempt` (first once, then spinning), then waits with `untilAcquired`. */
  wait<T>(acq: Acquirer<T>, deadline: Deadline): Promise<T> {
    // Fast path: ready now, so nothing is built for waiting (no naps, no loop).
    if (!deadline.signal?.aborted) {
      try {
        const now = acq.attempt();
        if (now !== null) return Promise.resolve(now);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return untilAcquired(acq.park ? acq : withNaps(acq), deadline, this.#spinner);
  }
}

/** `acq` plus a `park` that naps on the pool during the first {@linkcode NAP_PHASE_MS}. */
function withNaps<T>(acq: Acquirer<T>): Acquirer<T> {
  const until = performance.now() + NAP_PHASE_MS;
  let us = 50;
  let napping = true;
  const nap = (ms: number): Promise<T | null> => {
    // The phase ends here, not in the getter: untilAcquired reads `park`
    // twice per round (test, then call), and both reads must agree.
    if (performance.now() >= until) napping = false;
    const t = Math.min(us, ms * 1000);
    us = Math.min(us * 2, 500);
    return libc().usleep_nb(t).then(() => null);
  };
  return {
    attempt: acq.attempt,
    // After the nap phase there is no park, and untilAcquired sleeps on timers.
    get park() {
      return napping ? nap : undefined;
    },
  };
}
