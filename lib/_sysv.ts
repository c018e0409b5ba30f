/**
 * What System V message queues, semaphore sets and shared memory share:
 * keys, the create/open flow with its owner and mode check, `ipc_perm`
 * records, kernel limits from `/proc/sys/kernel`, and the handle base class.
 *
 * @module
 */
import { ERRNO } from "../ffi/errno.ts";
import { E } from "../ffi/errno.ts";
import { libc } from "../ffi/libc.ts";
import { getField, type Layout, off, setField } from "../ffi/struct.ts";
import { sysv, sysvLayout } from "../ffi/sysv.ts";
import { closedError, invalidArgument, type IpcError, ipcError } from "./_errors.ts";
import { checkMode } from "./_validate.ts";
import { type Acquirer, type Deadline, Spinner, untilAcquired } from "./wait.ts";

/** The three System V object families. */
export type SysvFamily = "msg" | "sem" | "shm";

/** Nouns for messages, per family. */
export const familyNoun: Record<SysvFamily, string> = {
  msg: "message queue",
  sem: "semaphore set",
  shm: "shared memory segment",
};

/** The id's name in messages (`msqid 5`), as `ipcs` calls it. */
export const idName: Record<SysvFamily, string> = { msg: "msqid", sem: "semid", shm: "shmid" };

/** Permissions and ownership of a System V object (`struct ipc_perm`). */
export interface SysvPerm {
  /** The key it was created with (0 is `IPC_PRIVATE`), as an unsigned 32-bit number. */
  key: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Creator uid. */
  cuid: number;
  /** Creator gid. */
  cgid: number;
  /** Permission bits (`0o600`). */
  mode: number;
  /** Slot usage sequence number. */
  seq: number;
}

/** Decodes the `ipc_perm` at byte `base` of `view`. */
export function decodePerm(view: DataView, base: number): SysvPerm {
  const L = sysvLayout().ipc_perm;
  return {
    key: getField(view, L, "__key", false, base),
    uid: getField(view, L, "uid", false, base),
    gid: getField(view, L, "gid", false, base),
    cuid: getField(view, L, "cuid", false, base),
    cgid: getField(view, L, "cgid", false, base),
    mode: getField(view, L, "mode", false, base) & 0o777,
    seq: getField(view, L, "__seq", false, base),
  };
}

/** A `time_t` field as a Date, or `null` when it is 0 ("never"). */
export function timeField(view: DataView, layout: Layout, field: string): Date | null {
  const s = getField(view, layout, field, true);
  return s === 0 ? null : new Date(s * 1000);
}

/** `0x1234abcd`: a key as `ipcs` prints it. */
export function formatKey(key: number): string {
  return "0x" + (key >>> 0).toString(16).padStart(8, "0");
}

/**
 * Validates a key (a 32-bit integer, signed or unsigned) and returns it as
 * the signed `key_t` the C library takes.
 */
export function checkKey(key: unknown, syscall: string): number {
  if (
    typeof key !== "number" || !Number.isInteger(key) || key < -0x80000000 || key > 0xffffffff
  ) {
    throw invalidArgument(
      syscall,
      String(key),
      "a System V key must be a 32-bit integer (0 is IPC_PRIVATE)",
    );
  }
  return key | 0;
}

/** Validates a System V id (a non-negative int). */
export function checkId(id: unknown, syscall: string): number {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
    throw invalidArgument(syscall, String(id), "a System V id must be an integer >= 0");
  }
  return id;
}

/** A random key that is neither `IPC_PRIVATE` nor -1. */
export function randomKey(): number {
  const b = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(b);
    if (b[0] !== 0 && b[0] !== 0xffffffff) return b[0];
  }
}

/** Kernel limits for System V IPC, read from `/proc/sys/kernel`. */
export interface SysvLimits {
  /** `kernel.msgmax`: largest message in bytes. */
  msgmax: number;
  /** `kernel.msgmnb`: default capacity of a new queue, in bytes. */
  msgmnb: number;
  /** `kernel.sem` SEMMSL: most semaphores in one set. */
  semmsl: number;
  /** `kernel.sem` SEMOPM: most operations in one `semop`. */
  semopm: number;
  /** `kernel.shmmax`: largest segment in bytes. */
  shmmax: number;
}

function readNumbers(path: string): number[] | null {
  try {
    return Deno.readTextFileSync(path).trim().split(/\s+/).map(Number);
  } catch {
    return null; // no --allow-read, or no /proc: the kernel still checks
  }
}

let cachedLimits: SysvLimits | undefined;

/**
 * The host's System V limits (read once). Where `/proc` cannot be read the
 * Linux defaults are used; the kernel enforces the real ones anyway.
 */
export function sysvLimits(): SysvLimits {
  if (cachedLimits) return cachedLimits;
  const sem = readNumbers("/proc/sys/kernel/sem") ?? [32000, 1024000000, 500, 32000];
  return cachedLimits = {
    msgmax: readNumbers("/proc/sys/kernel/msgmax")?.[0] ?? 8192,
    msgmnb: readNumbers("/proc/sys/kernel/msgmnb")?.[0] ?? 16384,
    semmsl: sem[0],
    semopm: sem[2],
    shmmax: Math.min(readNumbers("/proc/sys/kernel/shmmax")?.[0] ?? 2 ** 53, 2 ** 53),
  };
}

/** How far to trust an existing object someone else may have created. */
export type SysvTrust = "owner" | "any";

/** Which existing object to open: by key, or by id. */
export type SysvTarget = { key: number; id?: undefined } | { id: number; key?: undefined };

/** Options shared by every `openSysv...()` function. */
export interface SysvOpenCommon {
  /**
   * `"owner"` (default): refuse an object whose owner or creator is not this
   * user (or one of `trustedUids`), or that group or others may write: another
   * user could have planted it. `"any"`: skip the check.
   */
  trust?: SysvTrust;
  /** Further uids trusted as owner and creator (with `trust: "owner"`). */
  trustedUids?: number[];
  /** `close()` (and `using`) also removes the object. Default `false`. */
  removeOnClose?: boolean;
}

/** Options for opening an existing object: the target plus the common options. */
export type SysvOpenOptions = SysvTarget & SysvOpenCommon;

/** Options shared by every `createSysv...()` function. */
export interface SysvCreateCommon {
  /**
   * The key: `0` (`IPC_PRIVATE`, the default) makes an object only its id
   * reaches; `"random"` picks an unused random key; a number is used as is
   * (creation fails with `AlreadyExists` if the key is taken). See
   * {@linkcode ftok} for keys derived from a path.
   */
  key?: number | "random";
  /** Permission bits, applied exactly (the umask does not apply). Default `0o600`. */
  mode?: number;
  /** `close()` (and `using`) also removes the object. Default `false`. */
  removeOnClose?: boolean;
}

/**
 * Creates with `IPC_CREAT|IPC_EXCL|mode` through `get(key, flags)`, retrying
 * another random key on EEXIST for `key: "random"`. Returns `[id, key]`.
 */
export function createWith(
  family: SysvFamily,
  syscall: string,
  options: SysvCreateCommon,
  get: (key: number, flags: number) => number,
  ctx: { limit?: string } = {},
): [number, number] {
  const C = sysv();
  const mode = checkMode(options.mode ?? 0o600, syscall);
  if (mode > 0o777) {
    throw invalidArgument(syscall, undefined, "System V modes are permission bits (0 to 0o777)");
  }
  const random = options.key === "random";
  for (let tries = 0;; tries++) {
    const key = random ? randomKey() : checkKey(options.key ?? C.IPC_PRIVATE, syscall);
    const id = get(key | 0, C.IPC_CREAT | C.IPC_EXCL | mode);
    if (id >= 0) return [id, key >>> 0];
    const n = ERRNO[0];
    if (n === E().EINTR) continue;
    if (n === E().EEXIST && random && tries < 16) continue;
    throw ipcError({
      errno: n,
      syscall,
      object: key === C.IPC_PRIVATE ? "IPC_PRIVATE" : `key ${formatKey(key)}`,
      kind: familyNoun[family],
      limit: n === E().ENOSPC ? `kernel.${family}mni` : ctx.limit,
    });
  }
}

/** Resolves `key` to an id through `get(key, 0)`. */
export function idForKey(
  family: SysvFamily,
  syscall: string,
  key: unknown,
  get: (key: number, flags: number) => number,
): number {
  const k = checkKey(key, syscall);
  if (k === sysv().IPC_PRIVATE) {
    throw invalidArgument(
      syscall,
      "IPC_PRIVATE",
      "key 0 (IPC_PRIVATE) names no existing object; open it by id",
    );
  }
  for (;;) {
    const id = get(k, 0);
    if (id >= 0) return id;
    const n = ERRNO[0];
    if (n !== E().EINTR) {
      throw ipcError({
        errno: n,
        syscall,
        object: `key ${formatKey(k)}`,
        kind: familyNoun[family],
      });
    }
  }
}

/**
 * The owner and mode check of an existing object: throws `PermissionDenied`
 * (EPERM) unless owner and creator are trusted and group/others cannot write.
 */
export function checkTrust(
  family: SysvFamily,
  perm: SysvPerm,
  options: SysvOpenCommon,
  syscall: string,
  object: string,
): void {
  const trust = options.trust ?? "owner";
  if (trust === "any") return;
  if (trust !== "owner") {
    throw invalidArgument(syscall, object, `trust must be "owner" or "any", got ${String(trust)}`);
  }
  const me = libc().geteuid();
  const ok = new Set([me, ...(options.trustedUids ?? [])]);
  const why = !ok.has(perm.uid)
    ? `owned by uid ${perm.uid}`
    : !ok.has(perm.cuid)
    ? `created by uid ${perm.cuid}`
    : (perm.mode & 0o022) !== 0
    ? `writable by group or others (mode 0${perm.mode.toString(8)})`
    : null;
  if (why === null) return;
  throw ipcError({
    code: "EPERM",
    syscall,
    object,
    detail: `untrusted ${familyNoun[family]}: ${why}`,
    hint: 'pass trust: "any" (or trustedUids) if that is expected',
  });
}

/** Owned scratch buffer for `IPC_STAT` of `layout`. */
export function statBuffer(layout: Layout): [Uint8Array<ArrayBuffer>, DataView] {
  const buf = new Uint8Array(layout.size);
  return [buf, new DataView(buf.buffer)];
}

/**
 * The base of every System V handle: its id and key, `close()` (and
 * `using`), `remove()`, and the "was it removed?" check that turns the EINVAL
 * a non-waiting call gets on a removed id into a typed EIDRM error.
 */
export abstract class SysvObject implements Disposable {
  /** The kernel's id for the object (what `ipcs` shows and `ipcrm -q/-s/-m` takes). */
  readonly id: number;
  /** The key it was created with (0 for `IPC_PRIVATE`), unsigned. */
  readonly key: number;
  #closed = false;
  #removed = false;
  readonly #removeOnClose: boolean;
  readonly #family: SysvFamily;

  /** Wraps an id; subclasses are built by the create/open functions. */
  protected constructor(family: SysvFamily, id: number, key: number, removeOnClose: boolean) {
    this.#family = family;
    this.id = id;
    this.key = key >>> 0;
    this.#removeOnClose = removeOnClose;
  }

  /** Name used in errors, e.g. `msqid 5`. */
  get name(): string {
    return `${idName[this.#family]} ${this.id}`;
  }

  /** Whether {@linkcode close} (or {@linkcode remove}) has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The id, or throws EBADF if the handle is closed. */
  protected live(syscall: string): number {
    if (this.#closed) throw closedError(syscall, this.name);
    return this.id;
  }

  /** `IPC_STAT` into a scratch buffer: returns -1 (errno set) on failure. */
  protected abstract rawStat(buf: Uint8Array<ArrayBuffer>): number;
  /** `IPC_SET` from a buffer: returns -1 (errno set) on failure. */
  protected abstract rawSet(buf: Uint8Array<ArrayBuffer>): number;

  /** `IPC_STAT` as a view over this family's `*_ds`, or the typed error. */
  protected statView(syscall: string): DataView {
    this.live(syscall);
    const [buf, v] = statBuffer(dsLayout(this.#family));
    if (this.rawStat(buf) === -1) throw this.failure(ERRNO[0], syscall);
    return v;
  }

  /**
   * `IPC_SET`: reads the current `*_ds`, applies uid/gid/mode `changes` (and
   * `edit`, for family-specific fields), writes it back.
   */
  protected applySet(
    syscall: string,
    changes: { uid?: number; gid?: number; mode?: number },
    edit?: (v: DataView) => void,
    ctx: { limit?: string } = {},
  ): void {
    this.live(syscall);
    if (changes.mode !== undefined) checkMode(changes.mode, syscall, this.name);
    const L = dsLayout(this.#family);
    const [buf, v] = statBuffer(L);
    if (this.rawStat(buf) === -1) throw this.failure(ERRNO[0], syscall);
    setPerm(v, off(L, `${this.#family}_perm`), changes, syscall, this.name);
    edit?.(v);
    if (this.rawSet(buf) === -1) throw this.failure(ERRNO[0], syscall, ctx);
  }
  /** `IPC_RMID`: returns -1 (errno set) on failure. */
  protected abstract rawRemove(): number;

  /** Whether the object behind the id is gone (`IPC_STAT` fails with EINVAL/EIDRM). */
  protected isGone(): boolean {
    const [buf] = statBuffer(dsLayout(this.#family));
    if (this.rawStat(buf) !== -1) return false;
    const n = ERRNO[0];
    return n === E().EINVAL || n === E().EIDRM;
  }

  /**
   * The error for a failed call whose errno is `n`: EIDRM ("was removed")
   * when the object no longer exists, else the plain error.
   */
  protected failure(n: number, syscall: string, ctx: { limit?: string } = {}): IpcError {
    const kind = familyNoun[this.#family];
    if (n === E().EIDRM || (n === E().EINVAL && this.isGone())) {
      return ipcError({ code: "EIDRM", syscall, object: this.name, kind });
    }
    return ipcError({ errno: n, syscall, object: this.name, kind, ...ctx });
  }

  /**
   * Removes the object from the system (`IPC_RMID`) and closes this handle.
   * Waiters in other processes fail with EIDRM. Shared memory is destroyed
   * once the last process detaches.
   *
   * @throws {IpcError} `PermissionDenied` (EPERM) if this user neither owns nor
   * created it (the handle stays open); EIDRM if it was already removed.
   */
  remove(): void {
    const syscall = `${this.#family}ctl(IPC_RMID)`;
    this.live(syscall);
    for (;;) {
      if (this.rawRemove() !== -1) break;
      const n = ERRNO[0];
      if (n === E().EINTR) continue;
      const gone = n === E().EINVAL || n === E().EIDRM;
      const err = ipcError({
        errno: gone ? E().EIDRM : n,
        syscall,
        object: this.name,
        kind: familyNoun[this.#family],
      });
      if (gone) this.#finish(); // nothing left to manage
      throw err; // EPERM & co: the handle stays usable
    }
    this.#finish();
  }

  #finish(): void {
    this.#removed = true;
    this.close();
  }

  /**
   * Closes the handle: later calls throw `BadResource` (EBADF). The object
   * itself stays unless the handle was made with `removeOnClose: true` (then
   * it is removed; an object someone else already removed is not an error).
   * Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
    if (this.#removeOnClose && !this.#removed) {
      this.#removed = true;
      while (this.rawRemove() === -1 && ERRNO[0] === E().EINTR) { /* retry */ }
    }
  }

  /** Subclass hook run once by {@linkcode close} (detaches shared memory). */
  protected onClose(): void {}

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Writes the uid/gid/mode changes into the `ipc_perm` at `base`. */
export function setPerm(
  v: DataView,
  base: number,
  changes: { uid?: number; gid?: number; mode?: number },
  syscall: string,
  object: string,
): void {
  const P = sysvLayout().ipc_perm;
  for (const f of ["uid", "gid"] as const) {
    const x = changes[f];
    if (x === undefined) continue;
    if (!Number.isInteger(x) || x < 0 || x > 0xfffffffe) {
      throw invalidArgument(syscall, object, `${f} must be an integer id, got ${x}`);
    }
    setField(v, P, f, x, base);
  }
  if (changes.mode !== undefined) {
    const mode = checkMode(changes.mode, syscall, object);
    if (mode > 0o777) throw invalidArgument(syscall, object, "mode must be 0 to 0o777");
    const old = getField(v, P, "mode", false, base);
    setField(v, P, "mode", (old & ~0o777) | mode, base);
  }
}

/**
 * The open flow shared by the three families: id from key (or the id
 * given), `IPC_STAT` for the key and the trust check.
 */
export function openFamily<T>(
  family: "msg" | "sem" | "shm",
  options: SysvOpenOptions,
  get: (key: number, flags: number) => number,
  stat: (id: number, buf: Uint8Array<ArrayBuffer>) => number,
  make: (id: number, key: number, v: DataView) => T,
): T {
  const syscall = `${family}get`;
  if (typeof options !== "object" || options === null) {
    throw invalidArgument(syscall, undefined, "pass { key } or { id }");
  }
  if ((options.key === undefined) === (options.id === undefined)) {
    throw invalidArgument(syscall, undefined, "pass exactly one of key and id");
  }
  const id = options.id !== undefined
    ? checkId(options.id, syscall)
    : idForKey(family, syscall, options.key, get);
  const name = `${idName[family]} ${id}`;
  const L = dsLayout(family);
  const [buf, v] = statBuffer(L);
  for (;;) {
    if (stat(id, buf) !== -1) break;
    const n = ERRNO[0];
    if (n === E().EINTR) continue;
    // EINVAL here means no object has this id (any more).
    throw ipcError({
      errno: n === E().EINVAL || n === E().EIDRM ? E().ENOENT : n,
      syscall: `${family}ctl(IPC_STAT)`,
      object: name,
      kind: familyNoun[family],
    });
  }
  const perm = decodePerm(v, off(L, `${family}_perm`));
  checkTrust(family, perm, options, syscall, name);
  return make(id, perm.key, v);
}

/** The `*id_ds` layout of a family. */
export function dsLayout(family: SysvFamily): Layout {
  return sysvLayout()[`${idName[family]}_ds`];
}

/** How long a message-queue wait naps on the pool before it falls back to timers. */
export const NAP_PHASE_MS = 5;

/**
 * Waits for a System V object: the shared {@linkcode Spinner} first (System V
 * objects have no descriptor, and Deno's timers tick in about 2 ms here), then
 * `untilAcquired`. An acquirer without a park of its own (message queues: no
 * timed call) gets one for the first {@linkcode NAP_PHASE_MS}: `usleep` naps on
 * the pool of 50 µs doubling to 1 ms (within `untilAcquired`'s budget of
 * parked calls), after which it falls back to `untilAcquired`'s timer backoff
 * and holds no pool thread.
 */
export class SysvWaiter {
  readonly #spinner = new Spinner();

  /** Tries `acq.attempt` (first once, then spinning), then waits with `untilAcquired`. */
  wait<T>(acq: Acquirer<T>, deadline: Deadline): Promise<T> {
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
    us = Math.min(us * 2, 1000);
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
