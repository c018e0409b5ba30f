/**
 * {@linkcode LockFile} (an open file to take locks on, a
 * {@linkcode Descriptor}), {@linkcode FileLock} (one held lock) and
 * {@linkcode openLockFile}, the one way a lock file is opened.
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { lock as lockConstants, lockLayout } from "../ffi/lock.ts";
import { getField } from "../ffi/struct.ts";
import { invalidArgument, ipcError, sys, trySys } from "./_errors.ts";
import { Descriptor } from "./fd.ts";
import { statFd } from "./_stat.ts";
import { checkOwner, trustLevel } from "./_trust.ts";
import { checkMode, checkPath } from "./_validate.ts";
import { Deadline, untilAcquired, type WaitOptions } from "./wait.ts";
import {
  checkOffset,
  checkRequest,
  flockStruct,
  type LockKind,
  type LockRequest,
  type Range,
  syscallName,
} from "./_lock_range.ts";

/** A lock request with a way to give up waiting. */
export interface LockOptions extends LockRequest, WaitOptions {}

/** How {@linkcode openLockFile} opens the file. */
export interface OpenLockFileOptions {
  /**
   * Create the file if it is missing (with `O_EXCL`, then `fchmod`, so the
   * umask does not apply): `true` for mode `0o600`, or `{ mode }`.
   * {@linkcode openLockFile} defaults to `false` (the file must exist); the
   * lock verbs (`lockFile`, `tryLockFile`,
   * `withLock`, `singleInstance`) default to `true`, as `flock(1)` does.
   */
  create?: boolean | { mode?: number };
  /**
   * Open read-only: enough for `flock` locks and shared record locks (an
   * exclusive record lock then fails with `EBADF`). Default `false`.
   */
  readOnly?: boolean;
  /**
   * `"owner"` (default): refuse (`PermissionDenied`, EPERM) an existing file
   * whose owner is not this user, root or one of `trustedUids`, or that group
   * or others may write: someone may have planted it. `"any"`: accept any.
   */
  trust?: "owner" | "any";
  /** Further uids trusted as owners (with `trust: "owner"`). */
  trustedUids?: readonly number[];
}

/** Who a record lock test found in the way (see {@linkcode LockFile.test}). */
export interface LockConflict {
  /** Whether the conflicting lock is shared (read). */
  shared: boolean;
  /** First byte of the conflicting lock. */
  start: number;
  /** Its length; `0` means to end of file. */
  length: number;
  /** The holder's pid: classic POSIX locks only (`F_OFD_GETLK` reports none). */
  pid?: number;
}

/** The mode a `create` option asks for, or `null` for "do not create". */
export function createMode(
  create: OpenLockFileOptions["create"],
  syscall: string,
  path: string,
): number | null {
  if (create === undefined || create === false) return null;
  if (create === true) return 0o600;
  if (typeof create !== "object" || create === null) {
    throw invalidArgument(syscall, path, "create must be a boolean or { mode }");
  }
  return checkMode(create.mode ?? 0o600, syscall, path);
}

/**
 * Opens `path` (creating it with `mode` when not null): the descriptor and
 * whether this call created the file.
 */
function openPath(
  path: string,
  mode: number | null,
  readOnly: boolean,
): { fd: number; created: boolean } {
  const C = unistd();
  const lib = libc();
  const p = cstr(path);
  // O_NONBLOCK: opening a FIFO by mistake must not block the event loop.
  const base = (readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_CLOEXEC | C.O_NOCTTY | C.O_NONBLOCK;
  const ctx = { kind: "file" };
  for (let tries = 0;; tries++) {
    const retry = tries <= 3;
    if (mode !== null) {
      const created = trySys(
        () => lib.open(p, base | C.O_CREAT | C.O_EXCL, mode),
        "open",
        path,
        ctx,
        retry ? ["EEXIST"] : [],
      );
      if (created !== null) {
        sys(() => lib.fchmod(created, mode), "fchmod", path);
        return { fd: created, created: true };
      }
    }
    // Removed between the two opens: create it again.
    const fd = trySys(
      () => lib.open(p, base, 0),
      "open",
      path,
      ctx,
      mode !== null && retry ? ["ENOENT"] : [],
    );
    if (fd !== null) return { fd, created: false };
  }
}

/**
 * Opens a regular file for locking: an existing one, or, with `create`, one
 * made with mode `0o600` (or `create: { mode }`) if missing. The one way to
 * open a lock file; the lock verbs (`lockFile` and friends) open
 * through it.
 *
 * @example Updating one record of a shared file under a byte-range lock
 * ```ts
 * import { openLockFile } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/records";
 * using file = openLockFile(path, { create: true });
 * {
 *   using _lock = await file.lock({ start: 16, length: 16, timeout: 1000 });
 *   file.writeAt(new TextEncoder().encode("record #1       "), 16);
 * }
 * ```
 * @throws {IpcError} `NotFound` (ENOENT) for a missing file without
 * `create`; `IsADirectory` (EISDIR) for a directory, EINVAL for anything
 * else that is not a regular file; `PermissionDenied` (EACCES) from open,
 * or (EPERM) for an existing file that fails the `trust` rule.
 */
export function openLockFile(path: string, options: OpenLockFileOptions = {}): LockFile {
  checkPath(path, "open");
  const mode = createMode(options.create, "open", path);
  trustLevel(options, "open", path);
  const { fd, created } = openPath(path, mode, options.readOnly ?? false);
  const file = new LockFile(fd, path);
  try {
    const { type, uid, mode: bits } = statFd(file.fd, path);
    if (type === "directory") {
      throw ipcError({ code: "EISDIR", syscall: "open", object: path, detail: "is a directory" });
    }
    if (type !== "file") {
      throw invalidArgument("open", path, `not a regular file (it is a ${type})`);
    }
    if (!created) checkOwner({ uid, mode: bits }, options, "open", path, "lock file");
  } catch (e) {
    file.close();
    throw e;
  }
  return file;
}

/**
 * An open file to take locks on, made by {@linkcode openLockFile}. A
 * {@linkcode Descriptor}: closing it releases every `flock` and OFD lock
 * taken through it (and, for classic POSIX locks, every such lock this
 * process holds on the file). Turn `closeOnExec` off to hand the descriptor,
 * and so a `flock`/OFD lock, to a child, as `flock(1)` does: the lock then
 * lasts until the child exits too.
 *
 * @example Two descriptors on one file exclude each other
 * ```ts
 * import { openLockFile } from "@ipckit/ipckit";
 * const dir = await Deno.makeTempDir();
 * using a = openLockFile(`${dir}/db`, { create: true });
 * using b = openLockFile(`${dir}/db`);
 * using held = a.tryLock({ kind: "ofd" });
 * console.log(held?.held, b.tryLock({ kind: "ofd" })); // true null
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class LockFile extends Descriptor {
  #flockHeld = false;
  /** The path the file was opened at. */
  readonly path: string;

  /** @internal Use {@linkcode openLockFile}. */
  constructor(fd: number, path: string) {
    // Opened O_NONBLOCK already (a FIFO must not block the open); on the
    // regular file it turns out to be, the flag means nothing.
    super(fd, { name: path, nonBlocking: false });
    this.path = path;
  }

  /** One non-blocking attempt: true if granted, false if someone else holds it. */
  #attempt(r: Range): boolean {
    const fd = this.fd;
    const C = lockConstants();
    const lib = libc();
    const ret = trySys(
      r.kind === "flock"
        ? () => lib.flock(fd, (r.shared ? C.LOCK_SH : C.LOCK_EX) | C.LOCK_NB)
        : () =>
          lib.fcntl_lock(
            fd,
            r.kind === "ofd" ? C.F_OFD_SETLK : C.F_SETLK,
            flockStruct(r.shared ? C.F_RDLCK : C.F_WRLCK, r.start, r.length),
          ),
      syscallName(r.kind, "set"),
      this.path,
      undefined,
      BUSY,
    );
    return ret !== null;
  }

  #checkFlock(r: Range, syscall: string): void {
    if (r.kind === "flock" && this.#flockHeld) {
      throw invalidArgument(
        syscall,
        this.path,
        "this LockFile already holds (or waits for) its flock lock; release it first " +
          "(flock converts, not stacks)",
      );
    }
  }

  #granted(r: Range): FileLock {
    if (r.kind === "flock") this.#flockHeld = true;
    return new FileLock(this, r, false);
  }

  /**
   * Takes the lock if it is free now, else returns `null`. Never waits.
   *
   * @throws {IpcError} EINVAL for a bad range or kind; `BadResource` (EBADF)
   * if closed, or for an exclusive record lock on a read-only file.
   */
  tryLock(request?: LockRequest): FileLock | null {
    const r = checkRequest(request, "lock", this.path);
    this.#checkFlock(r, "lock");
    return this.#attempt(r) ? this.#granted(r) : null;
  }

  /**
   * Takes the lock, waiting (without blocking the event loop) while another
   * holder has it.
   *
   * @throws {IpcError} `TimedOut` (ETIMEDOUT) after `timeout`; the signal's
   * reason on abort; EINVAL for a bad range or timeout (before any attempt).
   */
  async lock(options?: LockOptions): Promise<FileLock> {
    const r = checkRequest(options, "lock", this.path);
    const deadline = new Deadline(options, syscallName(r.kind, "set"), this.path);
    this.#checkFlock(r, "lock");
    // Reserve the handle's one flock lock while waiting, so a concurrent
    // lock() on the same LockFile cannot "succeed" on the same descriptor.
    if (r.kind === "flock") this.#flockHeld = true;
    try {
      await untilAcquired({ attempt: () => this.#attempt(r) ? true : null }, deadline);
    } catch (e) {
      if (r.kind === "flock") this.#flockHeld = false;
      throw e;
    }
    return this.#granted(r);
  }

  /**
   * Asks the kernel whether a record lock on the range could be taken now
   * (`F_OFD_GETLK`, or `F_GETLK` for kind `"posix"`, which also reports the
   * holder's pid); returns the first conflicting lock or `null`. Locks this
   * handle holds never conflict with it. For `flock` locks use `lockHolders`.
   */
  test(request?: LockRequest): LockConflict | null {
    const r = checkRequest(request, "fcntl", this.path);
    if (r.kind === "flock") {
      throw invalidArgument(
        "fcntl",
        this.path,
        "flock locks cannot be tested without taking them; use lockHolders(path)",
      );
    }
    const fd = this.fd;
    const C = lockConstants();
    const L = lockLayout().flock;
    const buf = flockStruct(r.shared ? C.F_RDLCK : C.F_WRLCK, r.start, r.length);
    const cmd = r.kind === "ofd" ? C.F_OFD_GETLK : C.F_GETLK;
    sys(() => libc().fcntl_lock(fd, cmd, buf), syscallName(r.kind, "get"), this.path);
    const v = new DataView(buf.buffer);
    if (getField(v, L, "l_type") === C.F_UNLCK) return null;
    const pid = getField(v, L, "l_pid", true);
    return {
      shared: getField(v, L, "l_type") === C.F_RDLCK,
      start: getField(v, L, "l_start", true),
      length: getField(v, L, "l_len", true),
      ...(pid > 0 ? { pid } : {}),
    };
  }

  /** @internal Releases one lock taken through this file. */
  unlock(r: Range): void {
    if (this.closed) return; // closing the file released it
    const C = lockConstants();
    const fd = this.fd;
    if (r.kind === "flock") {
      this.#flockHeld = false;
      sys(() => libc().flock(fd, C.LOCK_UN), "flock", this.path);
      return;
    }
    const buf = flockStruct(C.F_UNLCK, r.start, r.length);
    const cmd = r.kind === "ofd" ? C.F_OFD_SETLK : C.F_SETLK;
    sys(() => libc().fcntl_lock(fd, cmd, buf), syscallName(r.kind, "set"), this.path);
  }

  /** Reads up to `buffer.length` bytes at `offset` (`pread`); the count, `0` at end of file. */
  readAt(buffer: Uint8Array, offset: number): number {
    const fd = this.fd;
    checkOffset(offset, "pread", this.path);
    const len = Math.min(buffer.byteLength, 1 << 30);
    return sys(() => libc().pread(fd, buffer, BigInt(len), BigInt(offset)), "pread", this.path);
  }

  /** Writes all of `data` at `offset` (`pwrite`, repeated until done). */
  writeAt(data: Uint8Array, offset: number): void {
    const fd = this.fd;
    checkOffset(offset, "pwrite", this.path);
    let done = 0;
    while (done < data.byteLength) {
      const chunk = data.subarray(done, done + Math.min(data.byteLength - done, 1 << 30));
      done += sys(
        () => libc().pwrite(fd, chunk, BigInt(chunk.byteLength), BigInt(offset + done)),
        "pwrite",
        this.path,
      );
    }
  }

  /** Sets the file's size (`ftruncate`). */
  truncate(size = 0): void {
    const fd = this.fd;
    checkOffset(size, "ftruncate", this.path);
    sys(() => libc().ftruncate(fd, BigInt(size)), "ftruncate", this.path);
  }

  /** Closing the descriptor releases its locks. */
  protected override onClose(): void {
    this.#flockHeld = false;
  }
}

/** A lock held by someone else: EAGAIN (flock, OFD) or EACCES (classic POSIX). */
const BUSY: readonly string[] = ["EAGAIN", "EACCES"];

/**
 * A held lock. `release()` (or leaving a `using` block) unlocks it; a lock
 * from `lockFile` also closes its file.
 *
 * @example A shared lock, released at the end of its block
 * ```ts
 * import { openLockFile } from "@ipckit/ipckit";
 * const dir = await Deno.makeTempDir();
 * using file = openLockFile(`${dir}/state`, { create: true });
 * {
 *   using lock = await file.lock({ shared: true, timeout: 1000 });
 *   console.log(lock.kind, lock.shared, lock.held); // flock true true
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileLock implements Disposable {
  readonly #file: LockFile;
  readonly #range: Range;
  readonly #ownsFile: boolean;
  #held = true;

  /** @internal Made by {@linkcode LockFile.lock} and `lockFile`. */
  constructor(file: LockFile, range: Range, ownsFile: boolean) {
    this.#file = file;
    this.#range = range;
    this.#ownsFile = ownsFile;
  }

  /** The file the lock is on. */
  get file(): LockFile {
    return this.#file;
  }
  /** The mechanism. */
  get kind(): LockKind {
    return this.#range.kind;
  }
  /** Whether the lock is shared (read) rather than exclusive. */
  get shared(): boolean {
    return this.#range.shared;
  }
  /** First byte (0 for flock). */
  get start(): number {
    return this.#range.start;
  }
  /** Length in bytes; 0 is "to end of file" (and always for flock). */
  get length(): number {
    return this.#range.length;
  }
  /** Whether the lock is still held (false after release or once its file closed). */
  get held(): boolean {
    return this.#held && !this.#file.closed;
  }

  /** Releases the lock (and closes the file if the lock owns it). Idempotent. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      this.#file.unlock(this.#range);
    } finally {
      if (this.#ownsFile) this.#file.close();
    }
  }

  /** Same as {@linkcode release}. */
  [Symbol.dispose](): void {
    this.release();
  }

  /** @internal Marks a lock as owning its file. */
  static owning(lock: FileLock): FileLock {
    return new FileLock(lock.#file, lock.#range, true);
  }
}
