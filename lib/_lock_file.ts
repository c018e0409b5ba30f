/**
 * {@linkcode LockFile} (an open file to take locks on, a
 * {@linkcode Descriptor}) and {@linkcode FileLock} (one held lock).
 * Opening is in `_lock_open.ts`.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { lock as lockConstants, lockLayout } from "../ffi/lock.ts";
import { getField } from "../ffi/struct.ts";
import { invalidArgument, sys, trySys } from "./_errors.ts";
import { Descriptor } from "./fd.ts";
import { startWait, untilAcquired, type WaitOptions } from "./wait.ts";
import { describe, objectOf } from "./_validate.ts";
import {
  checkBytes,
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

let unlockOf: (file: LockFile, r: Range) => void;

/**
 * Releases one lock taken through `file` (a no-op once it is closed). A
 * module function, not a method: a caller's range would reach `fcntl`
 * unchecked.
 */
export function unlockRange(file: LockFile, r: Range): void {
  unlockOf(file, r);
}

/** The token that makes {@linkcode FileLock}s: this module's only. */
const LOCK: unique symbol = Symbol("ipckit.FileLock");

/**
 * An open file to take locks on, made by `openLockFile()`. A
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

  /** @internal Use `openLockFile()`. */
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
    return new FileLock(LOCK, this, r, false);
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
    const deadline = startWait(options, syscallName(r.kind, "set"), this.path);
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

  static {
    unlockOf = (file, r) => file.#unlock(r);
  }

  /** Releases one lock taken through this file (see {@linkcode unlockRange}). */
  #unlock(r: Range): void {
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
    checkBytes(buffer, "pread", this.path);
    checkOffset(offset, "pread", this.path);
    const len = Math.min(buffer.byteLength, 1 << 30);
    return sys(() => libc().pread(fd, buffer, BigInt(len), BigInt(offset)), "pread", this.path);
  }

  /** Writes all of `data` at `offset` (`pwrite`, repeated until done). */
  writeAt(data: Uint8Array, offset: number): void {
    const fd = this.fd;
    checkBytes(data, "pwrite", this.path);
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
  constructor(token: typeof LOCK, file: LockFile, range: Range, ownsFile: boolean) {
    if (token !== LOCK) {
      throw invalidArgument(
        "FileLock",
        objectOf(file),
        "use LockFile.lock(), lockFile() or withLock()",
      );
    }
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
      unlockOf(this.#file, this.#range);
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
    if (!(lock instanceof FileLock) || !(#file in lock)) {
      throw invalidArgument("FileLock.owning", objectOf(lock), `not a FileLock: ${describe(lock)}`);
    }
    return new FileLock(LOCK, lock.#file, lock.#range, true);
  }
}
