/**
 * POSIX semaphores: named ones ({@linkcode openSemaphore}) shared by name
 * between processes, and unnamed process-shared ones placed inside a
 * shared-memory region ({@linkcode semaphoreInRegion}). `wait()` never blocks
 * the event loop (a `sem_trywait` on this thread, with short timed waits on
 * Deno's pool as wake-up hints); `tryWait()` never waits.
 * {@linkcode withSemaphore} runs a function as a cross-process critical section.
 *
 * @example A named semaphore used as a lock
 * ```ts
 * import { openSemaphore } from "@ipckit/ipckit";
 * using sem = openSemaphore("/ipckit-doc-sem", { create: true, value: 1 });
 * sem.unlink();
 * await sem.wait({ timeout: 1000 });
 * try {
 *   // critical section
 * } finally {
 *   sem.post();
 * }
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { semaphore, semaphoreLayout } from "../ffi/semaphore.ts";
import { getField, setField } from "../ffi/struct.ts";
import { E, ERRNO } from "../ffi/errno.ts";
import { closedError, invalidArgument, ipcError, sys } from "./_errors.ts";
import { statPath } from "./_stat.ts";
import { checkMode } from "./_validate.ts";
import { checkInt, checkPosixName, checkTrusted, type TrustOptions } from "./_posix.ts";
import { Deadline, Spinner, untilAcquired, type WaitOptions } from "./wait.ts";
import { pinRegion, type SharedMemory } from "./shm.ts";

/** Longest semaphore name in bytes, slash included (glibc stores it as `/dev/shm/sem.<name>`). */
export const SEMAPHORE_NAME_MAX = 252;

/**
 * A POSIX semaphore handle (named or unnamed). After `close()` every method
 * throws `BadResource` without calling into libc (a closed `sem_t*` would
 * crash the process).
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
  readonly #spinner = new Spinner();

  /** Wraps a `sem_t*`; use {@linkcode openSemaphore} or {@linkcode semaphoreInRegion}. */
  constructor(ptr: Deno.PointerObject, name: string, named: boolean, finalize: () => void) {
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
    const r = libc().sem_post(p);
    if (r === 0) return;
    const e = ERRNO[0];
    throw ipcError({
      errno: e,
      syscall: "sem_post",
      object: this.name,
      limit: e === E().EOVERFLOW ? "SEM_VALUE_MAX" : undefined,
      detail: e === E().EOVERFLOW
        ? `the value is already SEM_VALUE_MAX (${semaphore().SEM_VALUE_MAX})`
        : undefined,
    });
  }

  /** Decrements the value if it is above zero: `true` if it did, `false` if it would wait. */
  tryWait(): boolean {
    const p = this.#p("sem_trywait");
    for (let tries = 0;; tries++) {
      if (libc().sem_trywait(p) === 0) return true;
      const e = ERRNO[0];
      if (e === E().EAGAIN) return false;
      if (e === E().EINTR) continue;
      // errno can be overwritten between the call and the read (a GC run by a V8
      // interrupt): a value of 0 means "would block" whatever errno says.
      if (libc().sem_getvalue(p, this.#valueBuf) === 0 && this.#valueBuf[0] === 0) return false;
      if (tries === 0) continue;
      throw ipcError({ errno: e, syscall: "sem_trywait", object: this.name });
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
    if (this.tryWait()) return;
    const deadline = new Deadline(options, "sem_wait", this.name);
    await untilAcquired<true>(
      {
        attempt: () => this.tryWait() || null,
        park: (ms) => this.#park(ms),
        release: () => {
          if (!this.#closed) this.post();
        },
      },
      deadline,
      this.#spinner,
    );
  }

  /** The current value (`sem_getvalue`; never negative on Linux). */
  value(): number {
    const p = this.#p("sem_getvalue");
    sys(() => libc().sem_getvalue(p, this.#valueBuf), "sem_getvalue", this.name);
    return this.#valueBuf[0];
  }

  /** Removes a named semaphore's name (see {@linkcode unlinkSemaphore}). */
  unlink(): void {
    if (!this.named) {
      throw invalidArgument("sem_unlink", this.name, "an unnamed semaphore has no name");
    }
    unlinkSemaphore(this.name);
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

/** Options for {@linkcode openSemaphore}. */
export interface OpenSemaphoreOptions extends TrustOptions {
  /** Create it. Without `exclusive`, an existing semaphore is opened instead. */
  create?: boolean;
  /** With `create`: fail with `AlreadyExists` (EEXIST) if it exists. */
  exclusive?: boolean;
  /** Permission bits of a created semaphore. Default `0o600`. */
  mode?: number;
  /** Initial value of a created semaphore (0 to `SEM_VALUE_MAX`). Default 0. */
  value?: number;
}

function semPath(name: string): string {
  return `/dev/shm/sem.${name.slice(1)}`;
}

/**
 * Opens (or, with `create`, creates) the named semaphore `name`.
 *
 * @example
 * ```ts
 * import { openSemaphore } from "@ipckit/ipckit";
 * using sem = openSemaphore("/ipckit-doc-open-sem", { create: true, exclusive: true, value: 2 });
 * sem.unlink();
 * console.log(sem.value()); // 2
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name (over {@linkcode SEMAPHORE_NAME_MAX}
 * bytes), mode or value, before any syscall; `AlreadyExists` (EEXIST);
 * `NotFound` (ENOENT); `PermissionDenied` (EACCES; EPERM if untrusted).
 */
export function openSemaphore(name: string, options: OpenSemaphoreOptions = {}): Semaphore {
  checkPosixName(name, "sem_open", SEMAPHORE_NAME_MAX);
  const C = unistd();
  const lib = libc();
  const c = cstr(name);
  const finalize = (p: Deno.PointerObject) => () => void lib.sem_close(p);
  if (options.create) {
    const mode = checkMode(options.mode ?? 0o600, "sem_open", name);
    const value = checkInt(options.value ?? 0, "value", "sem_open", name, {
      min: 0,
      max: semaphore().SEM_VALUE_MAX,
      limit: "SEM_VALUE_MAX",
    });
    for (;;) {
      const p = lib.sem_open(c, C.O_CREAT | C.O_EXCL, mode, value);
      if (p !== null) {
        // sem_open applied the umask; glibc keeps the semaphore as a file in /dev/shm.
        try {
          sys(() => lib.chmod(cstr(semPath(name)), mode), "chmod", name);
        } catch (e) {
          lib.sem_close(p);
          lib.sem_unlink(c);
          throw e;
        }
        return new Semaphore(p, name, true, finalize(p));
      }
      const e = ERRNO[0];
      if (e === E().EINTR) continue;
      if (e === E().EEXIST && !options.exclusive) break;
      throw ipcError({ errno: e, syscall: "sem_open", object: name, kind: "semaphore" });
    }
  }
  let p: Deno.PointerObject | null;
  for (;;) {
    p = lib.sem_open(c, 0, 0, 0);
    if (p !== null) break;
    const e = ERRNO[0];
    if (e !== E().EINTR) {
      throw ipcError({ errno: e, syscall: "sem_open", object: name, kind: "semaphore" });
    }
  }
  try {
    checkTrusted(statPath(semPath(name)), "sem_open", name, "semaphore", options);
  } catch (e) {
    lib.sem_close(p);
    throw e;
  }
  return new Semaphore(p, name, true, finalize(p));
}

/**
 * Removes the named semaphore `name`; processes that have it open keep it.
 *
 * @example
 * ```ts
 * import { openSemaphore, unlinkSemaphore } from "@ipckit/ipckit";
 * openSemaphore("/ipckit-doc-rm-sem", { create: true }).close();
 * unlinkSemaphore("/ipckit-doc-rm-sem");
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT); `PermissionDenied` (EACCES).
 */
export function unlinkSemaphore(name: string): void {
  checkPosixName(name, "sem_unlink", SEMAPHORE_NAME_MAX);
  const c = cstr(name);
  sys(() => libc().sem_unlink(c), "sem_unlink", name, { kind: "semaphore" });
}

/** Bytes an unnamed semaphore takes in a region (`sizeof(sem_t)`); place them at multiples of 8. */
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
  const value = checkInt(options.value ?? 0, "value", "sem_init", region.name, {
    min: 0,
    max: semaphore().SEM_VALUE_MAX,
    limit: "SEM_VALUE_MAX",
  });
  const pin = pinRegion(region, offset, semaphoreSize());
  if (options.initialize) {
    try {
      sys(() => libc().sem_init(pin.ptr, 1, value), "sem_init", region.name);
    } catch (e) {
      pin.unpin();
      throw e;
    }
  }
  return new Semaphore(pin.ptr, `${region.name}+${offset}`, false, pin.unpin);
}

/**
 * Runs `fn` while holding the named semaphore `name` (created with value 1
 * if missing): a critical section across processes. The semaphore is posted
 * back even if `fn` throws.
 *
 * @example
 * ```ts
 * import { unlinkSemaphore, withSemaphore } from "@ipckit/ipckit";
 * const n = await withSemaphore("/ipckit-doc-with", () => 42, { timeout: 1000 });
 * unlinkSemaphore("/ipckit-doc-with");
 * console.log(n); // 42
 * ```
 *
 * @throws {IpcError} `TimedOut` if the section is not free within `timeout`; what `fn` throws.
 */
export async function withSemaphore<T>(
  name: string,
  fn: () => T | Promise<T>,
  options: WaitOptions & { mode?: number } = {},
): Promise<T> {
  using sem = openSemaphore(name, { create: true, value: 1, mode: options.mode });
  await sem.wait(options);
  try {
    return await fn();
  } finally {
    sem.post();
  }
}
