/**
 * File locks: whole-file `flock` locks (the ones util-linux `flock(1)` takes),
 * open-file-description byte-range locks (`F_OFD_*`), and classic POSIX
 * record locks (`F_SETLK`/`F_SETLKW`/`F_GETLK`), acquired without blocking
 * the event loop and released through `using`.
 *
 * Prefer `"flock"` (the default for whole files) or `"ofd"` (the default for
 * byte ranges). Classic `"posix"` locks belong to the process, not to the
 * handle: they never conflict between two handles of one process, and closing
 * *any* descriptor of the file (a `Deno.readTextFile` of it included) drops
 * them all. They are supported because older peers (C programs, Python
 * `fcntl.lockf`) use them, and `F_GETLK` reports the holder's pid.
 *
 * Waiting: `flock` has no timed form and a blocked `F_OFD_SETLKW` cannot be
 * interrupted (Deno's `SA_RESTART` handlers restart it), so a pool thread
 * parked in one could never be given back. Every wait is therefore a
 * non-blocking attempt on the JS thread, retried with a 1 to 20 ms backoff on
 * timers until it succeeds, the timeout passes or the signal aborts.
 *
 * @example Only one copy of a job at a time
 * ```ts
 * import { withLock } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/job.lock";
 * await withLock(path, () => {
 *   console.log("running alone");
 * }, { timeout: 1000 });
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd, unistdLayout } from "../ffi/unistd.ts";
import { lock as lockConstants, lockLayout } from "../ffi/lock.ts";
import { E, ERRNO } from "../ffi/errno.ts";
import { getField, setField } from "../ffi/struct.ts";
import { closedError, invalidArgument, IpcError, ipcError, sys, sysOnce } from "./_errors.ts";
import type { Fd } from "./fd.ts";
import { statFd } from "./_stat.ts";
import { checkMode, checkPath } from "./_validate.ts";
import { Deadline, untilAcquired, type WaitOptions } from "./wait.ts";
import { readProcText } from "./_host.ts";

/**
 * Which lock mechanism: `"flock"` (whole file, per open file, what
 * `flock(1)` uses), `"ofd"` (byte ranges, per open file), `"posix"` (byte
 * ranges, per process: see the module notes for its traps).
 */
export type LockKind = "flock" | "ofd" | "posix";

/** What to lock. */
export interface LockRequest {
  /** A shared (read) lock instead of an exclusive (write) one. Default `false`. */
  shared?: boolean;
  /**
   * Lock mechanism. Default `"flock"`, or `"ofd"` when `start` or `length`
   * is given.
   */
  kind?: LockKind;
  /** First byte of the range (record locks only). Default `0`. */
  start?: number;
  /** Bytes in the range; `0` means "to end of file, however long it grows". Default `0`. */
  length?: number;
}

/** A lock request with a way to give up waiting. */
export interface LockOptions extends LockRequest, WaitOptions {}

/** How {@linkcode LockFile.open} opens the file. */
export interface OpenLockFileOptions {
  /** Create the file if missing (with `O_EXCL`, then `fchmod`). Default `true`. */
  create?: boolean;
  /** Permission bits of a file this call creates (the umask does not apply). Default `0o600`. */
  mode?: number;
  /**
   * Open read-only: enough for `flock` locks and shared record locks (an
   * exclusive record lock then fails with `EBADF`). Default `false`.
   */
  readOnly?: boolean;
}

interface Range {
  kind: LockKind;
  shared: boolean;
  start: number;
  length: number;
}

const KINDS: readonly string[] = ["flock", "ofd", "posix"];

function checkRequest(req: LockRequest | undefined, syscall: string, object: string): Range {
  const r = req ?? {};
  if (typeof r !== "object") throw invalidArgument(syscall, object, "options must be an object");
  const ranged = r.start !== undefined || r.length !== undefined;
  const kind = r.kind ?? (ranged ? "ofd" : "flock");
  if (!KINDS.includes(kind)) {
    throw invalidArgument(syscall, object, `kind must be "flock", "ofd" or "posix", got ${kind}`);
  }
  if (kind === "flock" && ranged) {
    throw invalidArgument(syscall, object, 'flock locks the whole file; use kind "ofd" for ranges');
  }
  const int = (v: unknown, name: string): number => {
    if (v === undefined) return 0;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw invalidArgument(
        syscall,
        object,
        `${name} must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}, got ${String(v)}`,
      );
    }
    return v;
  };
  const start = int(r.start, "start");
  const length = int(r.length, "length");
  if (start + length > Number.MAX_SAFE_INTEGER) {
    throw ipcError({
      code: "EOVERFLOW",
      syscall,
      object,
      detail: `range ${start}+${length} overflows the largest file offset ipckit handles`,
    });
  }
  if (r.shared !== undefined && typeof r.shared !== "boolean") {
    throw invalidArgument(syscall, object, "shared must be a boolean");
  }
  return { kind, shared: r.shared ?? false, start, length };
}

let scratch: { buf: Uint8Array<ArrayBuffer>; view: DataView } | undefined;

/**
 * Fills the one `struct flock` scratch buffer. Every fcntl lock call is
 * synchronous, so one buffer serves them all (and `F_GETLK` results are read
 * before the next call).
 */
function flockStruct(type: number, start: number, length: number): Uint8Array<ArrayBuffer> {
  const L = lockLayout().flock;
  if (!scratch) {
    const buf = new Uint8Array(L.size);
    scratch = { buf, view: new DataView(buf.buffer) };
  }
  const v = scratch.view;
  scratch.buf.fill(0);
  setField(v, L, "l_type", type);
  setField(v, L, "l_whence", lockConstants().SEEK_SET);
  setField(v, L, "l_start", start);
  setField(v, L, "l_len", length);
  // l_pid stays 0, as OFD locks require.
  return scratch.buf;
}

function syscallName(kind: LockKind, op: "set" | "get"): string {
  if (kind === "flock") return "flock";
  if (kind === "ofd") return op === "set" ? "fcntl(F_OFD_SETLK)" : "fcntl(F_OFD_GETLK)";
  return op === "set" ? "fcntl(F_SETLK)" : "fcntl(F_GETLK)";
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

/**
 * An open file to take locks on. Owns its descriptor; closing it releases
 * every `flock` and OFD lock taken through it (and, for classic POSIX locks,
 * every such lock this process holds on the file).
 *
 * @example Updating one record of a shared file under a byte-range lock
 * ```ts
 * import { LockFile } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/records";
 * using file = LockFile.open(path);
 * {
 *   using _lock = await file.lock({ start: 16, length: 16, timeout: 1000 });
 *   file.writeAt(new TextEncoder().encode("record #1       "), 16);
 * }
 * ```
 */
export class LockFile implements Disposable {
  #fd: number;
  #flockHeld = false;
  /** The path the file was opened at. */
  readonly path: string;

  private constructor(fd: number, path: string) {
    this.#fd = fd;
    this.path = path;
  }

  /**
   * Opens (by default creating, mode `0o600`) a regular file for locking.
   *
   * @throws {IpcError} `IsADirectory` (EISDIR) for a directory, EINVAL for
   * anything else that is not a regular file, `NotFound`, `PermissionDenied`.
   */
  static open(path: string, options: OpenLockFileOptions = {}): LockFile {
    checkPath(path, "open");
    const create = options.create ?? true;
    const mode = checkMode(options.mode ?? 0o600, "open", path);
    const C = unistd();
    const lib = libc();
    const p = cstr(path);
    // O_NONBLOCK: opening a FIFO by mistake must not block the event loop.
    const base = (options.readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_CLOEXEC | C.O_NOCTTY |
      C.O_NONBLOCK;
    let fd = -1;
    for (let tries = 0; fd < 0; tries++) {
      if (create) {
        fd = lib.open(p, base | C.O_CREAT | C.O_EXCL, mode);
        if (fd >= 0) {
          const created = fd;
          sys(() => lib.fchmod(created, mode), "fchmod", path);
          break;
        }
        const e = ERRNO[0];
        if (e !== E().EEXIST || tries > 3) {
          throw ipcError({ errno: e, syscall: "open", object: path, kind: "file" });
        }
      }
      fd = lib.open(p, base, 0);
      if (fd < 0) {
        const e = ERRNO[0];
        // Removed between the two opens: create it again.
        if (!(create && e === E().ENOENT && tries <= 3)) {
          throw ipcError({ errno: e, syscall: "open", object: path, kind: "file" });
        }
      }
    }
    const file = new LockFile(fd, path);
    try {
      const { type } = statFd(fd, path);
      if (type === "directory") {
        throw ipcError({ code: "EISDIR", syscall: "open", object: path, detail: "is a directory" });
      }
      if (type !== "file") {
        throw invalidArgument("open", path, `not a regular file (it is a ${type})`);
      }
    } catch (e) {
      file.close();
      throw e;
    }
    return file;
  }

  /** The descriptor. Throws `BadResource` (EBADF) once closed. */
  get fd(): Fd {
    if (this.#fd < 0) throw closedError("lock", this.path);
    return this.#fd as Fd;
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * `FD_CLOEXEC` (on by default). Turn it off to hand the descriptor, and so
   * a `flock`/OFD lock, to a child started with `Deno.Command`, as `flock(1)`
   * does: the lock then lasts until the child exits too.
   */
  get closeOnExec(): boolean {
    const fd = this.fd;
    const C = unistd();
    return (sys(() => libc().fcntl(fd, C.F_GETFD, 0), "fcntl(F_GETFD)", this.path) &
      C.FD_CLOEXEC) !== 0;
  }
  set closeOnExec(on: boolean) {
    const fd = this.fd;
    const C = unistd();
    sys(() => libc().fcntl(fd, C.F_SETFD, on ? C.FD_CLOEXEC : 0), "fcntl(F_SETFD)", this.path);
  }

  #attempt(r: Range): boolean {
    const fd = this.fd;
    const C = lockConstants();
    const lib = libc();
    const name = syscallName(r.kind, "set");
    for (;;) {
      let ret: number;
      if (r.kind === "flock") {
        ret = lib.flock(fd, (r.shared ? C.LOCK_SH : C.LOCK_EX) | C.LOCK_NB);
      } else {
        const buf = flockStruct(r.shared ? C.F_RDLCK : C.F_WRLCK, r.start, r.length);
        ret = lib.fcntl_lock(fd, r.kind === "ofd" ? C.F_OFD_SETLK : C.F_SETLK, buf);
      }
      if (ret === 0) return true;
      const e = ERRNO[0];
      if (e === E().EAGAIN || e === E().EACCES) return false;
      if (e !== E().EINTR) throw ipcError({ errno: e, syscall: name, object: this.path });
    }
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
   * reason on abort; EINVAL for a bad range; EDEADLK for a classic lock
   * wait the kernel finds circular is not possible here (waits never block).
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
   * handle holds never conflict with it. For `flock` locks use
   * {@linkcode lockHolders}.
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
    if (this.#fd < 0) return; // closing the file released it
    const C = lockConstants();
    const fd = this.#fd;
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

  /** Closes the file, which releases its locks. Idempotent. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    this.#flockHeld = false;
    sysOnce(() => libc().close(fd), "close", this.path);
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function checkOffset(offset: unknown, syscall: string, object: string): void {
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalidArgument(syscall, object, `offset must be an integer >= 0, got ${String(offset)}`);
  }
}

/**
 * A held lock. `release()` (or leaving a `using` block) unlocks it; a lock
 * from {@linkcode lockFile} also closes its file.
 */
export class FileLock implements Disposable {
  readonly #file: LockFile;
  readonly #range: Range;
  readonly #ownsFile: boolean;
  #held = true;

  /** @internal Made by {@linkcode LockFile.lock} and {@linkcode lockFile}. */
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

/**
 * Opens read-write, or read-only when that is refused (EACCES) and the lock
 * needs no write access (`flock`, shared record locks): a lock file another
 * user created with mode 0644, as `flock(1)` does, can still be locked.
 */
function openFor(path: string, options: OpenLockFileOptions, r: Range): LockFile {
  try {
    return LockFile.open(path, options);
  } catch (e) {
    const readOnlyWorks = r.kind === "flock" || r.shared;
    if (
      options.readOnly !== undefined || !readOnlyWorks || !(e instanceof IpcError) ||
      e.code !== "EACCES"
    ) {
      throw e;
    }
    return LockFile.open(path, { ...options, readOnly: true });
  }
}

/** Options for {@linkcode lockFile}. */
export type LockFileOptions = LockOptions & OpenLockFileOptions;

/**
 * Opens `path` (creating it, mode `0o600`, unless `create: false`) and locks
 * it, waiting if needed; the lock closes the file when released. By default
 * an exclusive `flock` lock: the one `flock(1)` takes, so it excludes and is
 * excluded by `flock /path command` in a shell.
 *
 * @example
 * ```ts
 * import { lockFile } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/app.lock";
 * using lock = await lockFile(path, { timeout: 5000 });
 * console.log("holding", lock.file.path);
 * ```
 * @throws {IpcError} `TimedOut` (ETIMEDOUT), `IsADirectory` (EISDIR),
 * EINVAL for a bad range, open errors.
 */
export async function lockFile(path: string, options: LockFileOptions = {}): Promise<FileLock> {
  const r = checkRequest(options, "lock", path);
  new Deadline(options, "lock", path); // validate before opening
  const file = openFor(path, options, r);
  try {
    return FileLock.owning(await file.lock(options));
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Like {@linkcode lockFile} but never waits: `null` if the lock is taken.
 *
 * @example
 * ```ts
 * import { tryLockFile } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/app.lock";
 * using lock = tryLockFile(path);
 * if (lock === null) console.log("busy");
 * ```
 */
export function tryLockFile(
  path: string,
  options: LockRequest & OpenLockFileOptions = {},
): FileLock | null {
  const r = checkRequest(options, "lock", path);
  const file = openFor(path, options, r);
  try {
    const lock = file.tryLock(options);
    if (lock === null) {
      file.close();
      return null;
    }
    return FileLock.owning(lock);
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Runs `fn` while holding the lock on `path`, and releases it afterwards,
 * also when `fn` throws.
 *
 * @example
 * ```ts
 * import { withLock } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/counter.lock";
 * const n = await withLock(path, () => 42, { timeout: 1000 });
 * ```
 */
export async function withLock<T>(
  path: string,
  fn: (lock: FileLock) => T | Promise<T>,
  options: LockFileOptions = {},
): Promise<T> {
  using lock = await lockFile(path, options);
  return await fn(lock);
}

/** One lock on a file, as the kernel lists it in `/proc/locks`. */
export interface LockHolder {
  /** `"flock"`, `"posix"`, `"ofd"`, or the kernel's word (`"lease"`...) in lower case. */
  kind: string;
  /** Shared (READ) or exclusive (WRITE). */
  shared: boolean;
  /** The owner's pid as the kernel reports it (`null` when it reports -1). */
  pid: number | null;
  /** The owner's command name (`/proc/PID/comm`), when readable. */
  command?: string;
  /** First byte. */
  start: number;
  /** Last byte, or `null` for "to end of file". */
  end: number | null;
  /** True for a process blocked waiting for this lock rather than holding one. */
  waiting: boolean;
}

const LINE =
  /^\d+:\s+(->\s+)?(\S+)\s+\S+\s+(\S+)\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s+(\d+)\s+(\d+|EOF)/;

/**
 * Every lock on `path` (held or waited for), from `/proc/locks`, matched by
 * device and inode. Read through libc, so it works without `--allow-all`.
 *
 * @example
 * ```ts
 * import { lockHolders, lockFile } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/app.lock";
 * using _lock = await lockFile(path);
 * console.log(lockHolders(path)); // [{ kind: "flock", shared: false, pid: ..., ... }]
 * ```
 * @throws {IpcError} `NotFound` if `path` does not exist.
 */
export function lockHolders(path: string): LockHolder[] {
  checkPath(path, "statx");
  const id = fileId(path);
  const text = readProcText("/proc/locks") ?? "";
  const out: LockHolder[] = [];
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    if (parseInt(m[5], 16) !== id.major || parseInt(m[6], 16) !== id.minor) continue;
    if (m[7] !== id.ino) continue;
    const kind = m[2] === "OFDLCK" ? "ofd" : m[2].toLowerCase();
    const pid = Number(m[4]);
    const holder: LockHolder = {
      kind,
      shared: m[3] === "READ",
      pid: pid > 0 ? pid : null,
      start: Number(m[8]),
      end: m[9] === "EOF" ? null : Number(m[9]),
      waiting: m[1] !== undefined,
    };
    const comm = pid > 0 ? readProcText(`/proc/${pid}/comm`)?.trim() : undefined;
    if (comm) holder.command = comm;
    out.push(holder);
  }
  return out;
}

function fileId(path: string): { major: number; minor: number; ino: string } {
  const C = unistd();
  const L = unistdLayout().statx;
  const buf = new Uint8Array(L.size);
  const p = cstr(path);
  sys(
    () => libc().statx(C.AT_FDCWD, p, 0, C.STATX_BASIC_STATS, buf),
    "statx",
    path,
  );
  const v = new DataView(buf.buffer);
  return {
    major: getField(v, L, "stx_dev_major"),
    minor: getField(v, L, "stx_dev_minor"),
    ino: v.getBigUint64(L.fields.stx_ino[0], true).toString(),
  };
}

/** A running single instance (see {@linkcode singleInstance}). */
export interface SingleInstance extends Disposable {
  /** The lock file. */
  readonly path: string;
  /** The held lock. */
  readonly lock: FileLock;
  /**
   * The pid recorded by a previous instance that ended without releasing
   * (crashed, killed), or `null` when the file was clean.
   */
  readonly stalePid: number | null;
  /** Clears the recorded pid and releases the lock. Idempotent. */
  release(): void;
}

/**
 * Makes sure only one process runs with this lock file: takes an exclusive
 * `flock` lock without waiting, and writes this process's pid into the file.
 * The kernel drops the lock when a holder dies, however it dies, so a
 * leftover file never blocks the next run; its recorded pid is reported as
 * `stalePid`. The file is never unlinked (unlinking lock files races).
 *
 * @example
 * ```ts
 * import { singleInstance } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/cron-job.lock";
 * using instance = singleInstance(path);
 * if (instance.stalePid !== null) console.log("previous run", instance.stalePid, "died");
 * ```
 * @throws {IpcError} `Busy` (EBUSY) when another process holds the lock; its
 * message names the holder's pid.
 */
export function singleInstance(path: string, options: OpenLockFileOptions = {}): SingleInstance {
  const lock = tryLockFile(path, { ...options, readOnly: false });
  if (lock === null) {
    let pid: number | null = null;
    try {
      pid = lockHolders(path).find((h) => !h.waiting && h.pid !== null)?.pid ?? null;
    } catch { /* the holder list is only for the message */ }
    throw ipcError({
      code: "EBUSY",
      syscall: "flock",
      object: path,
      detail: `another instance${pid === null ? "" : ` (pid ${pid})`} holds the lock`,
    });
  }
  const file = lock.file;
  let stalePid: number | null = null;
  try {
    const buf = new Uint8Array(32);
    const n = file.readAt(buf, 0);
    const recorded = Number(new TextDecoder().decode(buf.subarray(0, n)).trim());
    if (Number.isSafeInteger(recorded) && recorded > 0) stalePid = recorded;
    file.truncate(0);
    file.writeAt(new TextEncoder().encode(`${Deno.pid}\n`), 0);
  } catch (e) {
    lock.release();
    throw e;
  }
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    try {
      if (!file.closed) file.truncate(0);
    } finally {
      lock.release();
    }
  };
  return { path, lock, stalePid, release, [Symbol.dispose]: release };
}
