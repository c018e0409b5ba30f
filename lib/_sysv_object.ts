/**
 * The base of every System V handle ({@linkcode SysvObject}): opening an id
 * with the `IPC_STAT` check and the trust rule, `IPC_STAT`/`IPC_SET`,
 * `remove()`, `close()`, and the error that says "removed" (EIDRM) when a
 * call failed because the object is gone.
 *
 * @module
 */
import { off } from "../ffi/struct.ts";
import { libc } from "../ffi/libc.ts";
import { sysv } from "../ffi/sysv.ts";
import { closedError, invalidArgument, type IpcError, ipcError, sys, trySys } from "./_errors.ts";
import { checkOwner, type TrustOptions } from "./_trust.ts";
import { checkFlag, checkMode, objectOf, optionsObject } from "./_validate.ts";
import {
  decodePerm,
  dsLayout,
  familyNoun,
  idName,
  setPerm,
  statBuffer,
  type SysvFamily,
} from "./_sysv_perm.ts";
import { checkId } from "./_sysv_key.ts";

/** Options of a handle on an existing System V object. */
export interface SysvHandleOptions extends TrustOptions {
  /** `close()` (and `using`) also removes the object. Default `false`. */
  removeOnClose?: boolean;
}

const GONE = ["EINVAL", "EIDRM"] as const;

/** uid/gid/mode changes of `IPC_SET`. */
type SysvPermChanges = { uid?: number; gid?: number; mode?: number };

/** The three raw `*ctl` calls of each family: -1 (errno set) on failure. */
const RAW: Record<SysvFamily, {
  stat(id: number, buf: Uint8Array<ArrayBuffer>): number;
  set(id: number, buf: Uint8Array<ArrayBuffer>): number;
  remove(id: number): number;
}> = {
  msg: {
    stat: (id, buf) => libc().msgctl(id, sysv().IPC_STAT, buf),
    set: (id, buf) => libc().msgctl(id, sysv().IPC_SET, buf),
    remove: (id) => libc().msgctl(id, sysv().IPC_RMID, null),
  },
  sem: {
    stat: (id, buf) => libc().semctl_buf(id, 0, sysv().IPC_STAT, buf),
    set: (id, buf) => libc().semctl_buf(id, 0, sysv().IPC_SET, buf),
    remove: (id) => libc().semctl(id, 0, sysv().IPC_RMID, 0n),
  },
  shm: {
    stat: (id, buf) => libc().shmctl(id, sysv().IPC_STAT, buf),
    set: (id, buf) => libc().shmctl(id, sysv().IPC_SET, buf),
    remove: (id) => libc().shmctl(id, sysv().IPC_RMID, null),
  },
};

/**
 * The handle internals the family modules use. They live in `#private`
 * members, reached only through these module functions (never exported from
 * the public surface): a `protected` method is still callable from
 * JavaScript, and `IPC_STAT` into a caller's buffer is a heap overflow.
 */
let internals: {
  live(o: SysvObject, syscall: string): number;
  call(o: SysvObject, call: () => number, syscall: string): number;
  attempt(
    o: SysvObject,
    call: () => number,
    syscall: string,
    wouldBlock?: readonly string[],
  ): number | null;
  statView(o: SysvObject, syscall: string): DataView;
  applySet(
    o: SysvObject,
    syscall: string,
    changes: unknown,
    edit?: (v: DataView) => void,
    ctx?: { limit?: string },
  ): void;
  failure(o: SysvObject, err: IpcError, syscall: string): IpcError;
  onClose(o: SysvObject, hook: () => void): void;
};

/** The id, or EBADF if `o` is closed. */
export const sysvLive = (o: SysvObject, syscall: string): number => internals.live(o, syscall);
/** Runs `call` (retrying EINTR); a failure is EIDRM when the object is gone. */
export const sysvCall = (o: SysvObject, call: () => number, syscall: string): number =>
  internals.call(o, call, syscall);
/** Like {@linkcode sysvCall}, but `null` when errno is one of `wouldBlock` (default EAGAIN). */
export const sysvAttempt = (
  o: SysvObject,
  call: () => number,
  syscall: string,
  wouldBlock?: readonly string[],
): number | null => internals.attempt(o, call, syscall, wouldBlock);
/** `IPC_STAT` as a view over the family's `*_ds`. */
export const sysvStatView = (o: SysvObject, syscall: string): DataView =>
  internals.statView(o, syscall);
/** `IPC_SET` of uid/gid/mode `changes` (validated here) and `edit`'s fields. */
export const sysvApplySet = (
  o: SysvObject,
  syscall: string,
  changes: unknown,
  edit?: (v: DataView) => void,
  ctx?: { limit?: string },
): void => internals.applySet(o, syscall, changes, edit, ctx);
/** The error for a failed call: EIDRM when the object is gone, else `err`. */
export const sysvFailure = (o: SysvObject, err: IpcError, syscall: string): IpcError =>
  internals.failure(o, err, syscall);
/** Sets the hook `close()` runs once (shared memory detaches its attachments). */
export const sysvOnClose = (o: SysvObject, hook: () => void): void => internals.onClose(o, hook);

/**
 * The base of every System V handle: its id and key, `close()` (and
 * `using`), `remove()`, and the "was it removed?" check that turns the EINVAL
 * a non-waiting call gets on a removed id into a typed EIDRM error.
 *
 * @example What every System V handle has
 * ```ts
 * import {
 *   createSysvMessageQueue,
 *   createSysvSemaphoreSet,
 *   type SysvObject,
 * } from "@ipckit/ipckit";
 * using q = createSysvMessageQueue();
 * using set = createSysvSemaphoreSet({ values: [1] });
 * for (const object of [q, set] satisfies SysvObject[]) {
 *   console.log(object.name, object.id, object.key); // e.g. msqid 32769 32769 0
 *   object.remove(); // IPC_RMID; the handle is closed with it
 * }
 * ```
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
  /** `name` and the error context, made once: the hot paths pass them on every call. */
  readonly #name: string;
  readonly #kind: { kind: string };
  #onClose: (() => void) | undefined;

  static {
    internals = {
      live: (o, syscall) => o.#live(syscall),
      call: (o, call, syscall) => o.#call(call, syscall),
      attempt: (o, call, syscall, wouldBlock) => o.#attempt(call, syscall, wouldBlock),
      statView: (o, syscall) => o.#statView(syscall),
      applySet: (o, syscall, changes, edit, ctx) => o.#applySet(syscall, changes, edit, ctx),
      failure: (o, err, syscall) => o.#failure(err, syscall),
      onClose: (o, hook) => {
        o.#onClose = hook;
      },
    };
  }

  /**
   * Opens the object with `id`: checks with `IPC_STAT` that it exists and
   * (unless `trust: "any"`) that its owner and creator are trusted and
   * group and others cannot write it. Nothing the caller says about the
   * object is taken on faith: its key and sizes come from the kernel.
   */
  protected constructor(family: SysvFamily, id: number, options?: SysvHandleOptions) {
    if (new.target === SysvObject || !Object.hasOwn(RAW, family)) {
      throw invalidArgument(
        "new SysvObject",
        objectOf(family),
        "SysvObject is abstract: open a SysvMessageQueue, SysvSemaphoreSet or SysvSharedMemory",
      );
    }
    const syscall = `${family}ctl(IPC_STAT)`;
    this.#family = family;
    this.id = checkId(id, `${family}get`);
    this.#name = `${idName[family]} ${this.id}`;
    this.#kind = { kind: familyNoun[family] };
    const opts = optionsObject(options, `${family}get`, this.name);
    this.#removeOnClose = checkFlag(
      opts.removeOnClose,
      "removeOnClose",
      `${family}get`,
      this.name,
    );
    const L = dsLayout(family);
    const [buf, v] = statBuffer(L);
    try {
      sys(() => this.#rawStat(buf), syscall, this.name, { kind: familyNoun[family] });
    } catch (e) {
      const code = (e as IpcError).code;
      // EINVAL here means no object has this id (any more).
      if (code === "EINVAL" || code === "EIDRM") {
        throw ipcError({ code: "ENOENT", syscall, object: this.name, kind: familyNoun[family] });
      }
      throw e;
    }
    const perm = decodePerm(v, off(L, `${family}_perm`));
    checkOwner(perm, opts, `${family}get`, this.name, familyNoun[family]);
    this.key = perm.key >>> 0;
  }

  /** Name used in errors, e.g. `msqid 5`. */
  get name(): string {
    return this.#name;
  }

  /** Whether {@linkcode close} (or {@linkcode remove}) has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The id, or throws EBADF if the handle is closed. */
  #live(syscall: string): number {
    if (this.#closed) throw closedError(syscall, this.name);
    return this.id;
  }

  // The raw calls write a whole `*_ds` into their buffer: only ever the
  // base's own scratch buffer of the family's size (never reachable from
  // outside, so no caller buffer can be overrun).
  #rawStat(buf: Uint8Array<ArrayBuffer>): number {
    return RAW[this.#family].stat(this.id, buf);
  }

  #rawSet(buf: Uint8Array<ArrayBuffer>): number {
    return RAW[this.#family].set(this.id, buf);
  }

  #rawRemove(): number {
    return RAW[this.#family].remove(this.id);
  }

  /**
   * Runs `call` (retrying EINTR) and returns its result; a failure is thrown
   * as EIDRM when the object is gone (see {@linkcode #failure}).
   */
  #call(call: () => number, syscall: string, ctx?: { limit?: string }): number {
    try {
      return sys(call, syscall, this.#name, ctx ? { ...this.#kind, ...ctx } : this.#kind);
    } catch (e) {
      throw this.#failure(e as IpcError, syscall);
    }
  }

  /** Like {@linkcode #call}, but `null` when errno is one of `wouldBlock` (default EAGAIN). */
  #attempt(call: () => number, syscall: string, wouldBlock?: readonly string[]): number | null {
    try {
      return trySys(
        call,
        syscall,
        this.#name,
        this.#kind,
        wouldBlock,
      );
    } catch (e) {
      throw this.#failure(e as IpcError, syscall);
    }
  }

  /** `IPC_STAT` as a view over this family's `*_ds`, or the typed error. */
  #statView(syscall: string): DataView {
    this.#live(syscall);
    const [buf, v] = statBuffer(dsLayout(this.#family));
    this.#call(() => this.#rawStat(buf), syscall);
    return v;
  }

  /**
   * `IPC_SET`: reads the current `*_ds`, applies uid/gid/mode `changes` (and
   * `edit`, for family-specific fields), writes it back.
   */
  #applySet(
    syscall: string,
    changes: unknown,
    edit?: (v: DataView) => void,
    ctx: { limit?: string } = {},
  ): void {
    this.#live(syscall);
    if (changes === undefined) {
      throw invalidArgument(syscall, this.name, "changes must be an object, got undefined");
    }
    const c = optionsObject(changes as SysvPermChanges, syscall, this.name);
    if (c.mode !== undefined) checkMode(c.mode, syscall, this.name);
    const L = dsLayout(this.#family);
    const [buf, v] = statBuffer(L);
    this.#call(() => this.#rawStat(buf), syscall);
    setPerm(v, off(L, `${this.#family}_perm`), c, syscall, this.name);
    edit?.(v);
    this.#call(() => this.#rawSet(buf), syscall, ctx);
  }

  /** Whether the object behind the id is gone (`IPC_STAT` fails with EINVAL/EIDRM). */
  #isGone(): boolean {
    const [buf] = statBuffer(dsLayout(this.#family));
    try {
      return trySys(() => this.#rawStat(buf), "IPC_STAT", this.name, {}, GONE) === null;
    } catch {
      return false; // EACCES & co: it exists
    }
  }

  /**
   * The error for a failed call: EIDRM ("was removed") when the object no
   * longer exists, else `err` itself.
   */
  #failure(err: IpcError, syscall: string): IpcError {
    const kind = familyNoun[this.#family];
    if (err.code === "EIDRM" || (err.code === "EINVAL" && this.#isGone())) {
      return ipcError({ code: "EIDRM", syscall, object: this.name, kind });
    }
    return err;
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
    this.#live(syscall);
    try {
      sys(() => this.#rawRemove(), syscall, this.name, { kind: familyNoun[this.#family] });
    } catch (e) {
      const code = (e as IpcError).code;
      if (code !== "EINVAL" && code !== "EIDRM") throw e; // EPERM & co: the handle stays usable
      this.#finish(); // nothing left to manage
      throw ipcError({
        code: "EIDRM",
        syscall,
        object: this.name,
        kind: familyNoun[this.#family],
      });
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
    this.#onClose?.();
    if (this.#removeOnClose && !this.#removed) {
      this.#removed = true;
      try {
        sys(() => this.#rawRemove(), `${this.#family}ctl(IPC_RMID)`, this.name);
      } catch { /* already removed by someone else, or not ours to remove */ }
    }
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
