/**
 * The POSIX semaphore handle ({@linkcode Semaphore}) shared by named and
 * in-region semaphores, {@linkcode removeSemaphore}, and the semaphores
 * placed in a shared-memory region. Named creation and opening live in
 * `semaphore.ts`, the public surface.
 *
 * @module
 */
import { checkFlag, optionsObject } from "./_validate.ts";
import { cstr, libc } from "../ffi/libc.ts";
import { semaphore, semaphoreLayout } from "../ffi/semaphore.ts";
import { getField, setField } from "../ffi/struct.ts";
import { E } from "../ffi/errno.ts";
import { closedError, invalidArgument, IpcError, ipcError, sys, trySys } from "./_errors.ts";
import { checkInt, checkPosixName, orDefault, SEMAPHORE_NAME_MAX } from "./_posix.ts";
import { Deadline, spinnerFor, untilAcquired, type WaitOptions } from "./wait.ts";
import { pinRegion, SharedMemory } from "./_shm_region.ts";

/** Proves a constructor call comes from this package. */
export const SEMAPHORE: unique symbol = Symbol("ipckit.Semaphore");
export const KIND = { kind: "semaphore" };

/**
 * A POSIX semaphore handle (named or unnamed). After `close()` every method
 * throws `BadResource` without calling into libc (a closed `sem_t*` would
 * crash the process).
 *
 * @example Taking and giving back a unit
 * ```ts
 * import { createSemaphore } from "@ipckit/ipckit";
 * using sem = createSemaphore("/ipckit-doc-semaphore-class", { value: 1 });
 * sem.remove();
 * await sem.wait({ timeout: 1000 }); // takes the only unit
 * console.log(sem.tryWait(), sem.value()); // null 0
 * sem.post();
 * console.log(sem.value()); // 1
 * ```
 */
export class Semaphore implements Disposable {
  #ptr: Deno.PointerObject | null;
  #closed = false;
  #parks = 0;
  readonly #finalize: () => void;
  /** The semaphore's name (`"/lock"`), or `"<region>+<offset>"` for an unnamed one. */
  readonly name: string;
  /** Whether it is a named semaphore (has a name to unlink). */
  readonly named: boolean;
  readonly #valueBuf = new Int32Array(new ArrayBuffer(128), 0, 1); // off-heap: cheaper FFI calls

  /** Internal: use {@linkcode createSemaphore}, {@linkcode openSemaphore} or {@linkcode semaphoreInRegion}. */
  constructor(
    token: typeof SEMAPHORE,
    ptr: Deno.PointerObject,
    name: string,
    named: boolean,
    finalize: () => void,
  ) {
    if (token !== SEMAPHORE) {
      throw invalidArgument(
        "Semaphore",
        undefined,
        "use createSemaphore, openSemaphore or semaphoreInRegion",
      );
    }
    this.#ptr = ptr;
    this.name = name;
    this.named = named;
    this.#finalize = finalize;
  }

  #p(op: string): Deno.PointerObject {
    if (this.#closed || this.#ptr === null) throw closedError(op, this.name);
    return this.#ptr;
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Increments the value, waking one waiter.
   *
   * @throws {IpcError} EOVERFLOW at `SEM_VALUE_MAX`; `BadResource` once closed.
   */
  post(): void {
    const p = this.#p("sem_post");
    try {
      sys(() => libc().sem_post(p), "sem_post", this.name);
    } catch (e) {
      if (!(e instanceof IpcError) || e.errno !== E().EOVERFLOW) throw e;
      throw ipcError({
        errno: e.errno,
        syscall: "sem_post",
        object: this.name,
        limit: "SEM_VALUE_MAX",
        detail: `the value is already SEM_VALUE_MAX (${semaphore().SEM_VALUE_MAX})`,
      });
    }
  }

  /** Decrements the value if it is above zero: `true` if it did, `null` if it would wait. */
  tryWait(): true | null {
    const p = this.#p("sem_trywait");
    const call = () => libc().sem_trywait(p);
    try {
      return trySys(call, "sem_trywait", this.name) === null ? null : true;
    } catch {
      // errno can be overwritten between the call and its read (a GC run by a V8
      // interrupt): a value of 0 means "would block" whatever errno said. A second
      // guard only: retry once, then report.
      if (libc().sem_getvalue(p, this.#valueBuf) === 0 && this.#valueBuf[0] === 0) return null;
      return trySys(call, "sem_trywait", this.name) === null ? null : true;
    }
  }

  #park(ms: number): Promise<true | null> {
    const ptr = this.#p("sem_clockwait");
    const S = semaphore();
    const L = semaphoreLayout().timespec;
    const ts = new Uint8Array(L.size);
    const v = new DataView(ts.buffer);
    libc().clock_gettime(S.CLOCK_MONOTONIC, ts);
    let sec = getField(v, L, "tv_sec");
    let nsec = getField(v, L, "tv_nsec") + Math.round(ms * 1e6);
    sec += Math.floor(nsec / 1e9);
    nsec %= 1e9;
    setField(v, L, "tv_sec", sec);
    setField(v, L, "tv_nsec", nsec);
    this.#parks++;
    return libc().sem_clockwait_nb(ptr, S.CLOCK_MONOTONIC, ts).then((r) => {
      if (r !== 0) return null;
      if (this.#closed) {
        // Acquired for a caller that is gone with the handle: give it back now,
        // while the pointer is still valid.
        libc().sem_post(ptr);
        return null;
      }
      return true as const;
    }).finally(() => {
      this.#parks--;
      if (this.#closed && this.#parks === 0) this.#release();
    });
  }

  /**
   * Decrements the value, waiting (without blocking the event loop) until it
   * is above zero.
   *
   * @throws {IpcError} `TimedOut` (ETIMEDOUT) after `timeout`; the signal's reason on abort;
   * `BadResource` if closed meanwhile.
   */
  async wait(options?: WaitOptions): Promise<void> {
    const deadline = new Deadline(options, "sem_wait", this.name);
    if (this.tryWait()) return;
    await untilAcquired<true>(
      {
        attempt: () => this.tryWait(),
        park: (ms) => this.#park(ms),
        release: () => {
          if (!this.#closed) this.post();
        },
      },
      deadline,
      spinnerFor(this),
    );
  }

  /** The current value (`sem_getvalue`; never negative on Linux). */
  value(): number {
    const p = this.#p("sem_getvalue");
    sys(() => libc().sem_getvalue(p, this.#valueBuf), "sem_getvalue", this.name);
    return this.#valueBuf[0];
  }

  /** Removes a named semaphore's name (see {@linkcode removeSemaphore}); this handle stays usable. */
  remove(): void {
    if (!this.named) {
      throw invalidArgument("sem_unlink", this.name, "an unnamed semaphore has no name");
    }
    removeSemaphore(this.name);
  }

  #release(): void {
    if (this.#ptr === null) return;
    this.#ptr = null;
    this.#finalize();
  }

  /**
   * Closes the handle (`sem_close`, or releases the region for an unnamed
   * one). Idempotent. A pending `wait()` rejects with `BadResource`; the
   * native close is deferred until its pool slice returns.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#parks === 0) this.#release();
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** A handle on the named semaphore at `p` (closed with `sem_close`). */
export function named(p: Deno.PointerObject, name: string): Semaphore {
  return new Semaphore(SEMAPHORE, p, name, true, () => void libc().sem_close(p));
}

/**
 * Removes the named semaphore `name`; processes that have it open keep it.
 *
 * @example
 * ```ts
 * import { createSemaphore, removeSemaphore } from "@ipckit/ipckit";
 * createSemaphore("/ipckit-doc-rm-sem").close();
 * removeSemaphore("/ipckit-doc-rm-sem");
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name; ENAMETOOLONG over
 * {@linkcode SEMAPHORE_NAME_MAX}; `NotFound` (ENOENT); `PermissionDenied` (EACCES).
 */
export function removeSemaphore(name: string): void {
  checkPosixName(name, "sem_unlink", SEMAPHORE_NAME_MAX);
  const c = cstr(name);
  sys(() => libc().sem_unlink(c), "sem_unlink", name, KIND);
}

/**
 * Bytes an unnamed semaphore takes in a region (`sizeof(sem_t)`); place them at multiples of 8.
 *
 * @example Two semaphores side by side in one region
 * ```ts
 * import { createMemfd, semaphoreInRegion, semaphoreSize } from "@ipckit/ipckit";
 * const slot = Math.ceil(semaphoreSize() / 8) * 8;
 * using seg = createMemfd("two-semaphores", { size: 2 * slot });
 * using free = semaphoreInRegion(seg, 0, { initialize: true, value: 4 });
 * using used = semaphoreInRegion(seg, slot, { initialize: true });
 * console.log(free.value(), used.value()); // 4 0
 * ```
 */
export function semaphoreSize(): number {
  return semaphoreLayout().sem_t.size;
}

/** Options for {@linkcode semaphoreInRegion}. */
export interface RegionSemaphoreOptions {
  /**
   * Initialise the semaphore (`sem_init`, process-shared) with `value`. Exactly
   * one process does this, before any other uses it; the others attach
   * without it. Default `false`.
   */
  initialize?: boolean;
  /** Initial value when initialising. Default 0. */
  value?: number;
}

/**
 * An unnamed process-shared semaphore at byte `offset` (a multiple of 8) of a
 * shared-memory region. The region stays mapped while the semaphore handle is
 * open, even if the region is closed first (its views are detached at once).
 *
 * @example A semaphore inside a memfd segment
 * ```ts
 * import { createMemfd, semaphoreInRegion } from "@ipckit/ipckit";
 * using seg = createMemfd("with-sem", { size: 4096 });
 * using ready = semaphoreInRegion(seg, 0, { initialize: true, value: 0 });
 * ready.post();
 * await ready.wait({ timeout: 1000 });
 * ```
 *
 * @throws {IpcError} EINVAL for a misaligned or out-of-range offset or a bad value;
 * `BadResource` if the region is closed.
 */
export function semaphoreInRegion(
  region: SharedMemory,
  offset: number,
  options: RegionSemaphoreOptions = {},
): Semaphore {
  if (!(region instanceof SharedMemory)) {
    throw invalidArgument("sem_init", undefined, "region must be a SharedMemory");
  }
  options = optionsObject(options, "sem_init", region.name);
  const initialize = checkFlag(options.initialize, "initialize", "sem_init", region.name);
  const value = checkInt(orDefault(options.value, 0), "value", "sem_init", region.name, {
    min: 0,
    max: semaphore().SEM_VALUE_MAX,
    limit: "SEM_VALUE_MAX",
  });
  const pin = pinRegion(region, offset, semaphoreSize(), "sem_init");
  if (initialize) {
    try {
      sys(() => libc().sem_init(pin.ptr, 1, value), "sem_init", region.name);
    } catch (e) {
      pin.unpin();
      throw e;
    }
  }
  return new Semaphore(SEMAPHORE, pin.ptr, `${region.name}+${offset}`, false, pin.unpin);
}
