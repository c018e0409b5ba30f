/**
 * System V semaphore sets: several counters changed atomically by one
 * `semop`, with `SEM_UNDO` so the kernel gives back what a process that dies
 * still held.
 *
 * A waiting {@linkcode SysvSemaphoreSet.op} tries `semop(IPC_NOWAIT)` on the
 * JS thread (spinning up to 500 µs while that pays off) and then parks in
 * `semtimedop` slices of at most 250 ms on Deno's pool (a few at a time, see `lib/wait.ts`); an acquisition that lands after
 * the caller gave up (timeout, abort) is undone with the inverse operations.
 *
 * @example A lock that a killed holder cannot keep
 * ```ts
 * import { createSysvSemaphoreSet } from "@ipckit/ipckit";
 * using sem = createSysvSemaphoreSet({ values: [1], removeOnClose: true });
 * await sem.wait(0, { timeout: 1000 }); // SEM_UNDO by default
 * try {
 *   // critical section
 * } finally {
 *   sem.post(0);
 * }
 * ```
 *
 * @module
 */
import { describe, optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { getField, setField } from "../ffi/struct.ts";
import { sysv, sysvLayout } from "../ffi/sysv.ts";
import { invalidArgument, type IpcError, ipcError } from "./_errors.ts";
import { creationObject, shown } from "./_sysv_key.ts";
import { Deadline, type WaitOptions } from "./wait.ts";
import { sysvLimits } from "./_sysv_limits.ts";
import {
  sysvApplySet,
  sysvAttempt,
  sysvCall,
  type SysvHandleOptions,
  sysvLive,
  SysvObject,
  sysvStatView,
} from "./_sysv_object.ts";
import { createOptions, createWith, openFamily, type SysvOpenOptions } from "./_sysv_open.ts";
import { dsLayout } from "./_sysv_perm.ts";
import { SysvWaiter } from "./_sysv_wait.ts";
import { checkValue, type Encoded, encodeOps, sameOps } from "./_sysv_sembuf.ts";
import {
  type CreateSysvSemaphoreSetOptions,
  decodeSemid,
  SEMVMX,
  type SysvSemOp,
  type SysvSemSetOptions,
  type SysvSemStat,
  type SysvSemUnitOptions,
} from "./_sysv_sem_types.ts";

export {
  type CreateSysvSemaphoreSetOptions,
  SEMVMX,
  type SysvSemOp,
  type SysvSemSetOptions,
  type SysvSemStat,
  type SysvSemUnitOptions,
};

/**
 * A System V semaphore set. Made by {@linkcode createSysvSemaphoreSet} or
 * {@linkcode openSysvSemaphoreSet}; `close()` (or `using`) ends the handle,
 * `remove()` deletes the set (waiters get EIDRM).
 *
 * @example Two counters changed atomically
 * ```ts
 * import { createSysvSemaphoreSet } from "@ipckit/ipckit";
 * using sem = createSysvSemaphoreSet({ values: [3, 0], removeOnClose: true });
 * // move one unit from semaphore 0 to semaphore 1, all or nothing
 * await sem.op([{ index: 0, delta: -1 }, { index: 1, delta: 1 }], { timeout: 1000 });
 * console.log(sem.values()); // [2, 1]
 * ```
 */
export class SysvSemaphoreSet extends SysvObject {
  /** Number of semaphores in the set. */
  readonly count: number;
  readonly #cache = new WeakMap<SysvSemOp[], Encoded>();
  readonly #spinner = new SysvWaiter();
  readonly #lockOps = new Map<string, SysvSemOp[]>();

  /**
   * Opens the set with `id` after checking with `IPC_STAT` that it exists
   * and passes the trust rule (its size comes from the kernel);
   * {@linkcode openSysvSemaphoreSet} also takes a key.
   */
  constructor(id: number, options: SysvHandleOptions = {}) {
    super("sem", id, options);
    this.count = getField(sysvStatView(this, "semctl(IPC_STAT)"), dsLayout("sem"), "sem_nsems");
  }

  #index(index: unknown, syscall: string): number {
    if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= this.count) {
      throw invalidArgument(
        syscall,
        this.name,
        `semaphore index must be an integer from 0 to ${this.count - 1}, got ${describe(index)}`,
      );
    }
    return index;
  }

  /**
   * Encodes `ops` as `struct sembuf[]`: one buffer with `IPC_NOWAIT` (the
   * attempt on this thread) and one without (the timed park on the pool).
   */
  #encoded(ops: SysvSemOp[], syscall: string): Encoded {
    // Callers often pass the same array again (a lock's ops): reuse its
    // encoding when every field is unchanged, which makes tryOp() cheap.
    const hit = this.#cache.get(ops);
    if (hit !== undefined && sameOps(hit.snapshot, ops)) return hit;
    const [nowait, wait] = encodeOps(ops, syscall, this.name, (i) => this.#index(i, syscall));
    const enc: Encoded = {
      snapshot: ops.map((o) => ({ index: o.index, delta: o.delta, undo: !!o.undo })),
      nowait,
      wait,
      n: BigInt(ops.length),
    };
    if (Array.isArray(ops)) this.#cache.set(ops, enc);
    return enc;
  }

  #tryEncoded(enc: Encoded, syscall: string): true | null {
    const id = sysvLive(this, syscall);
    try {
      return sysvAttempt(this, () => libc().semop(id, enc.nowait, enc.n), syscall) === null
        ? null
        : true;
    } catch (e) {
      if ((e as IpcError).code !== "ERANGE") throw e;
      throw ipcError({ code: "ERANGE", syscall, object: this.name, limit: "SEMVMX" });
    }
  }

  /** The inverse of an applied `semop`, with `IPC_NOWAIT` (best effort). */
  #undoEncoded(ops: SysvSemOp[]): void {
    const inverse = ops.filter((o) => o.delta !== 0).map((o) => ({ ...o, delta: -o.delta }));
    if (inverse.length === 0 || this.closed) return;
    try {
      this.#tryEncoded(this.#encoded(inverse, "semop"), "semop");
    } catch { /* the set is gone: nothing to give back */ }
  }

  /**
   * Applies every operation in `ops` atomically if that can be done now
   * (`true`); `null` (nothing applied) if one of them would have to wait.
   * Never waits.
   *
   * @throws {IpcError} EINVAL for a bad index or no operations; E2BIG above
   * SEMOPM operations; ERANGE if a value would pass {@linkcode SEMVMX};
   * EIDRM if the set was removed; `BadResource` (EBADF) after `close()`.
   */
  tryOp(ops: SysvSemOp[]): true | null {
    return this.#tryEncoded(this.#encoded(ops, "semop"), "semop");
  }

  /**
   * Applies every operation in `ops` atomically, waiting (without blocking
   * the event loop) until all of them can be.
   *
   * @example Wait until semaphore 0 is zero
   * ```ts
   * import { createSysvSemaphoreSet } from "@ipckit/ipckit";
   * using sem = createSysvSemaphoreSet({ count: 1, removeOnClose: true });
   * await sem.op([{ index: 0, delta: 0 }], { timeout: 100 });
   * ```
   *
   * @throws {IpcError} as {@linkcode tryOp}; EIDRM promptly if the set is
   * removed while waiting; `TimedOut` (ETIMEDOUT) after `timeout` ms; rejects
   * with `signal.reason` when aborted (an acquisition that raced the abort is
   * undone).
   */
  async op(ops: SysvSemOp[], options: WaitOptions = {}): Promise<void> {
    const deadline = new Deadline(options, "semop", this.name);
    const enc = this.#encoded(ops, "semop");
    const L = sysvLayout().timespec;
    await this.#spinner.wait<true>({
      attempt: () => this.#tryEncoded(enc, "semop"),
      park: (ms) => {
        if (this.closed) return Promise.resolve(null);
        const ts = new Uint8Array(L.size);
        const v = new DataView(ts.buffer);
        setField(v, L, "tv_sec", Math.floor(ms / 1000));
        setField(v, L, "tv_nsec", (ms % 1000) * 1e6);
        // A hint only: 0 means the ops were applied on the pool thread.
        return libc().semtimedop_nb(this.id, enc.wait, enc.n, ts).then((r) =>
          r === 0 ? true : null
        );
      },
      release: () => this.#undoEncoded(enc.snapshot),
    }, deadline);
  }

  /**
   * Takes `count` (default 1) from semaphore `index`, waiting while it is
   * lower. `SEM_UNDO` by default: if this process dies holding it, the
   * kernel gives it back.
   *
   * @example
   * ```ts
   * import { createSysvSemaphoreSet } from "@ipckit/ipckit";
   * using sem = createSysvSemaphoreSet({ values: [1], removeOnClose: true });
   * await sem.wait(0, { timeout: 1000 });
   * sem.post(0);
   * ```
   *
   * @throws {IpcError} as {@linkcode op}.
   */
  wait(index = 0, options: SysvSemUnitOptions & WaitOptions = {}): Promise<void> {
    try {
      return this.op(this.#lockOp(index, options, -1, "semop"), options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Takes `count` from semaphore `index` if it can now (`true`); `null` if
   * it would have to wait. Never waits.
   *
   * @throws {IpcError} as {@linkcode tryOp}.
   */
  tryWait(index = 0, options: SysvSemUnitOptions = {}): true | null {
    return this.tryOp(this.#lockOp(index, options, -1, "semop"));
  }

  /**
   * Gives `count` (default 1) back to semaphore `index`. Use the same `undo`
   * setting as the matching wait (default `true` for both).
   *
   * @throws {IpcError} ERANGE past {@linkcode SEMVMX}; EIDRM if removed.
   */
  post(index = 0, options: SysvSemUnitOptions = {}): void {
    this.tryOp(this.#lockOp(index, options, 1, "semop"));
  }

  #lockOp(
    index: number,
    options: SysvSemUnitOptions,
    sign: 1 | -1,
    syscall: string,
  ): SysvSemOp[] {
    index = this.#index(index, syscall);
    optionsObject(options, syscall, this.name);
    const count = options.count === undefined ? 1 : options.count;
    if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > SEMVMX) {
      throw invalidArgument(
        syscall,
        this.name,
        `count must be 1 to ${SEMVMX}, got ${shown(count)}`,
      );
    }
    const undo = options.undo === undefined ? true : options.undo;
    if (typeof undo !== "boolean") {
      throw invalidArgument(syscall, this.name, `undo must be true or false, got ${shown(undo)}`);
    }
    const key = `${index}:${sign * count}:${undo}`;
    let ops = this.#lockOps.get(key);
    if (ops === undefined) {
      ops = [{ index, delta: sign * count, undo }];
      if (this.#lockOps.size < 64) this.#lockOps.set(key, ops);
    }
    return ops;
  }

  #ctl(index: number, cmd: number, name: string, arg = 0n): number {
    const id = sysvLive(this, `semctl(${name})`);
    return sysvCall(this, () => libc().semctl(id, index, cmd, arg), `semctl(${name})`);
  }

  /**
   * `GETVAL`: the value of semaphore `index`.
   *
   * @example
   * ```ts
   * import { createSysvSemaphoreSet } from "@ipckit/ipckit";
   * using sem = createSysvSemaphoreSet({ values: [4], removeOnClose: true });
   * console.log(sem.value(0)); // 4
   * ```
   *
   * @throws {IpcError} EINVAL for a bad index; EIDRM if removed.
   */
  value(index: number): number {
    return this.#ctl(this.#index(index, "semctl(GETVAL)"), sysv().GETVAL, "GETVAL");
  }

  /**
   * `SETVAL`: sets semaphore `index` to `value` (0 to {@linkcode SEMVMX}),
   * clearing every process's undo adjustment for it and waking waiters.
   *
   * @throws {IpcError} ERANGE for a value outside 0..SEMVMX; EINVAL for a bad
   * index; EIDRM if removed.
   */
  setValue(index: number, value: number): void {
    const i = this.#index(index, "semctl(SETVAL)");
    const v = checkValue(value, "semctl(SETVAL)", this.name);
    this.#ctl(i, sysv().SETVAL, "SETVAL", BigInt(v));
  }

  /**
   * `GETALL`: every value, in index order.
   *
   * @throws {IpcError} EIDRM if removed.
   */
  values(): number[] {
    const id = sysvLive(this, "semctl(GETALL)");
    const values = new Uint16Array(this.count);
    sysvCall(this, () => libc().semctl_buf(id, 0, sysv().GETALL, values), "semctl(GETALL)");
    return [...values];
  }

  /**
   * `SETALL`: sets every value at once (one per semaphore).
   *
   * @throws {IpcError} EINVAL for the wrong number of values; ERANGE outside
   * 0..SEMVMX; EIDRM if removed.
   */
  setValues(values: number[]): void {
    const id = sysvLive(this, "semctl(SETALL)");
    if (!Array.isArray(values) || values.length !== this.count) {
      throw invalidArgument(
        "semctl(SETALL)",
        this.name,
        `pass exactly ${this.count} values, one per semaphore`,
      );
    }
    const arr = Uint16Array.from(values.map((v) => checkValue(v, "semctl(SETALL)", this.name)));
    sysvCall(this, () => libc().semctl_buf(id, 0, sysv().SETALL, arr), "semctl(SETALL)");
  }

  /**
   * `GETPID`: pid of the last process to operate on semaphore `index` (0 if none).
   *
   * @throws {IpcError} EINVAL for a bad index; EIDRM if removed.
   */
  lastPid(index: number): number {
    return this.#ctl(this.#index(index, "semctl(GETPID)"), sysv().GETPID, "GETPID");
  }

  /**
   * `GETNCNT`: processes waiting for semaphore `index` to increase.
   *
   * @throws {IpcError} EINVAL for a bad index; EIDRM if removed.
   */
  increaseWaiters(index: number): number {
    return this.#ctl(this.#index(index, "semctl(GETNCNT)"), sysv().GETNCNT, "GETNCNT");
  }

  /**
   * `GETZCNT`: processes waiting for semaphore `index` to become zero.
   *
   * @throws {IpcError} EINVAL for a bad index; EIDRM if removed.
   */
  zeroWaiters(index: number): number {
    return this.#ctl(this.#index(index, "semctl(GETZCNT)"), sysv().GETZCNT, "GETZCNT");
  }

  /**
   * `IPC_STAT`: owner, permissions, times and size.
   *
   * @throws {IpcError} EIDRM if removed; `PermissionDenied` (EACCES) without
   * read permission.
   */
  stat(): SysvSemStat {
    return decodeSemid(sysvStatView(this, "semctl(IPC_STAT)"));
  }

  /**
   * `IPC_SET`: changes owner or mode.
   *
   * @throws {IpcError} `PermissionDenied` (EPERM) unless owner or creator.
   */
  set(changes: SysvSemSetOptions): void {
    sysvApplySet(this, "semctl(IPC_SET)", changes);
  }
}

/**
 * Creates a new semaphore set with `IPC_CREAT|IPC_EXCL` (mode `0o600`, key
 * `IPC_PRIVATE` unless asked) and initialises it: values are set, then one
 * no-op `semop` stamps `sem_otime`, so openers can tell an initialised set
 * (`stat().opTime !== null`) from one still being set up.
 *
 * @example
 * ```ts
 * import { createSysvSemaphoreSet } from "@ipckit/ipckit";
 * using sem = createSysvSemaphoreSet({ values: [1, 5], removeOnClose: true });
 * console.log(sem.count, sem.values()); // 2 [1, 5]
 * ```
 *
 * @throws {IpcError} EINVAL for a count outside 1..SEMMSL or values that do
 * not match it; ERANGE for a value over {@linkcode SEMVMX}; `AlreadyExists`
 * (EEXIST) if the key is taken; ENOSPC at the system's limit of sets.
 */
export function createSysvSemaphoreSet(
  options?: CreateSysvSemaphoreSetOptions,
): SysvSemaphoreSet {
  options = createOptions(options, "semget");
  const what = creationObject(options.key);
  const values = options.values;
  if (values !== undefined && !Array.isArray(values)) {
    throw invalidArgument("semget", what, `values must be an array, got ${shown(values)}`);
  }
  const count = options.count !== undefined ? options.count : values?.length ?? 1;
  const { semmsl } = sysvLimits();
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > semmsl) {
    throw invalidArgument(
      "semget",
      what,
      `count must be an integer from 1 to ${semmsl} (SEMMSL), got ${shown(count)}`,
      { limit: "kernel.sem (SEMMSL)" },
    );
  }
  if (values !== undefined) {
    if (values.length !== count) {
      throw invalidArgument("semget", what, `pass ${count} initial values`);
    }
    for (const v of values) checkValue(v, "semget", what);
  }
  const [id] = createWith(
    "sem",
    "semget",
    options,
    (k, flags) => libc().semget(k, count, flags),
    { limit: "kernel.sem" },
  );
  const set = new SysvSemaphoreSet(id, { trust: "any", removeOnClose: options.removeOnClose });
  try {
    if (values?.some((v) => v !== 0)) set.setValues(values);
    // Stamp sem_otime: +1 then -1 (or -1 then +1 at SEMVMX) in one atomic semop.
    const up = (values?.[0] ?? 0) < SEMVMX;
    set.tryOp([{ index: 0, delta: up ? 1 : -1 }, { index: 0, delta: up ? -1 : 1 }]);
  } catch (e) {
    set.remove();
    throw e;
  }
  return set;
}

/**
 * Opens an existing semaphore set by `key` or by `id`, after the owner and
 * mode check (`trust`, `trustedUids`); with `create` and a key, creates
 * the set if no set has that key (open or create).
 *
 * @example
 * ```ts
 * import { createSysvSemaphoreSet, openSysvSemaphoreSet } from "@ipckit/ipckit";
 * using mine = createSysvSemaphoreSet({ count: 2, removeOnClose: true });
 * using same = openSysvSemaphoreSet({ id: mine.id });
 * console.log(same.count); // 2
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT) for an unknown key or
 * id; `PermissionDenied` (EACCES) without read permission, (EPERM)
 * for an untrusted set.
 */
export function openSysvSemaphoreSet(
  options: SysvOpenOptions<Omit<CreateSysvSemaphoreSetOptions, "key" | "removeOnClose">>,
): SysvSemaphoreSet {
  return openFamily(
    "sem",
    options,
    (k, flags) => libc().semget(k, 0, flags),
    (id, trust) => new SysvSemaphoreSet(id, { ...trust, removeOnClose: options.removeOnClose }),
    (key, create) =>
      createSysvSemaphoreSet({ ...create, key, removeOnClose: options.removeOnClose }),
  );
}
