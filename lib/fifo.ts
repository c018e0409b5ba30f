/**
 * Named pipes (FIFOs): create one with {@linkcode createFifo}, open either
 * end with {@linkcode openFifo} (which waits for the other side without
 * blocking the event loop, unlike a plain `open()`) or
 * {@linkcode tryOpenFifo} (which never waits), remove it with
 * {@linkcode removeFifo}.
 *
 * @example A writer and a reader in one script
 * ```ts
 * import { createFifo, openFifo, removeFifo } from "@ipckit/ipckit";
 * const path = await Deno.makeTempDir() + "/fifo";
 * createFifo(path);
 * const [reader, writer] = await Promise.all([openFifo(path, "read"), openFifo(path, "write")]);
 * await writer.writeAll(new TextEncoder().encode("hi"));
 * writer.close();
 * console.log(new TextDecoder().decode(await reader.readAll()));
 * reader.close();
 * removeFifo(path);
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { closedError, invalidArgument, type IpcError, ipcError, sys, trySys } from "./_errors.ts";
import { Descriptor, FdHandle } from "./fd.ts";
import { statFd, statPath } from "./_stat.ts";
import { checkOwner, trustLevel, type TrustOptions } from "./_trust.ts";
import { checkBytes, checkMode, checkPath, describe, optionsObject } from "./_validate.ts";
import { startWait, untilWatched, type WaitOptions } from "./wait.ts";

/** Options for {@linkcode createFifo}, and for `create` in {@linkcode openFifo}. */
export interface CreateFifoOptions {
  /** Permission bits, applied exactly (the umask does not reduce them). Default `0o600`. */
  mode?: number;
}

/** Options for {@linkcode openFifo}. */
export interface OpenFifoOptions extends WaitOptions, TrustOptions {
  /**
   * Create the FIFO first if nothing is at the path (`true` for the
   * defaults, or the {@linkcode CreateFifoOptions} to use). Without it a
   * missing FIFO is `NotFound`.
   */
  create?: boolean | CreateFifoOptions;
}

export type { TrustOptions };

/** Options for {@linkcode tryOpenFifo}. */
export type TryOpenFifoOptions = TrustOptions;

/**
 * Creates a FIFO at `path` with `mkfifo()`, mode `0o600` unless asked.
 * Exclusive: it never reuses something already at `path`.
 *
 * @example
 * ```ts
 * import { createFifo, removeFifo } from "@ipckit/ipckit";
 * const path = await Deno.makeTempDir() + "/jobs.fifo";
 * createFifo(path, { mode: 0o620 });
 * removeFifo(path);
 * ```
 *
 * @throws {IpcError} `AlreadyExists` (EEXIST) if anything is at `path`;
 * `NotFound` (ENOENT) if the directory is missing; EINVAL for a bad path or
 * mode.
 */
export function createFifo(path: string, options: CreateFifoOptions = {}): void {
  checkPath(path, "mkfifo");
  const o = optionsObject(options, "mkfifo", path);
  const mode = checkMode(o.mode === undefined ? 0o600 : o.mode, "mkfifo", path);
  make(path, mode, false);
}

/**
 * `mkfifo()` then the exact mode (mkfifo applies the umask). With
 * `mayExist`, returns `false` instead of throwing when something is already
 * at `path` (mkfifo never follows a symlink: one at `path` is EEXIST).
 */
function make(path: string, mode: number, mayExist: boolean): boolean {
  const p = cstr(path);
  const made = trySys(
    () => libc().mkfifo(p, mode),
    "mkfifo",
    path,
    { kind: "path" },
    mayExist ? ["EEXIST"] : [],
  );
  if (made === null) return false;
  setExactMode(path, mode);
  return true;
}

/**
 * Sets the mode of the FIFO just made at `path`. `chmod(path)` would follow
 * a symlink that someone swapped in since `mkfifo` (in a directory others
 * may write) and change the mode of whatever it points to; so the inode is
 * pinned with `O_PATH | O_NOFOLLOW` (no open of the FIFO itself, which would
 * wake a writer), checked to be a FIFO this user owns, and changed through
 * its `/proc/self/fd` link, which names that inode and nothing else.
 */
function setExactMode(path: string, mode: number): void {
  const C = unistd();
  const p = cstr(path);
  const fd = sys(
    () => libc().open(p, C.O_PATH | C.O_NOFOLLOW | C.O_CLOEXEC, 0),
    "open",
    path,
  );
  using pinned = new Descriptor(fd, { name: path, nonBlocking: false });
  const st = statFd(fd, path);
  if (st.type !== "fifo" || st.uid !== libc().geteuid()) {
    throw ipcError({
      code: "EEXIST",
      syscall: "chmod",
      object: path,
      detail: "the new FIFO was replaced by something else before its mode was set; not changed",
    });
  }
  const link = cstr(`/proc/self/fd/${pinned.fd}`);
  sys(() => libc().chmod(link, mode), "chmod", path, {
    hint: "setting an exact mode needs /proc mounted",
  });
}

/** Which end of a FIFO to open. */
export type FifoEnd = "read" | "write";

/** Opens without waiting: the descriptor, or `null` (ENXIO) for a write end with no reader. */
function openOnce(path: string, end: FifoEnd): number | null {
  const C = unistd();
  const flags = (end === "read" ? C.O_RDONLY : C.O_WRONLY) | C.O_NONBLOCK | C.O_CLOEXEC |
    C.O_NOFOLLOW;
  const p = cstr(path);
  try {
    return trySys(() => libc().open(p, flags, 0), "open", path, { kind: "FIFO" }, ["ENXIO"]);
  } catch (e) {
    throw (e as IpcError).code === "ELOOP" ? symlinkRefused("open", path, e) : e;
  }
}

/** The error for a path that is a symbolic link: never followed (someone may have planted it). */
function symlinkRefused(syscall: string, path: string, cause?: unknown): IpcError {
  return ipcError({
    code: "ELOOP",
    syscall,
    object: path,
    detail: "is a symbolic link, which ipckit never follows for a FIFO (it may have been planted)",
    hint: "pass the FIFO's real path",
    cause,
  });
}

/**
 * The read end of a FIFO. Opening it probes for a writer by reading one
 * byte, which is handed back first by the next read.
 */
class FifoReader extends FdHandle {
  #pending = -1;

  /** Probes for a connected writer: `true` if one is there (or was, and wrote). */
  probe(): boolean {
    if (this.#pending >= 0) return true;
    const one = new Uint8Array(1);
    const n = super.tryRead(one);
    if (n === null) return true; // EAGAIN: a writer is connected, no data yet
    if (n === 0) return false; // no writer
    this.#pending = one[0];
    return true;
  }

  override tryRead(buffer: Uint8Array): number | null {
    // Closed is closed, even with a probed byte held back.
    if (this.closed) throw closedError("read", this.name);
    if (this.#pending < 0 || checkBytes(buffer, "read", this.name) === 0) {
      return super.tryRead(buffer);
    }
    buffer[0] = this.#pending;
    this.#pending = -1;
    return 1 + (super.tryRead(buffer.subarray(1)) || 0);
  }
}

function checkEnd(end: unknown, path: string): FifoEnd {
  if (end !== "read" && end !== "write") {
    throw invalidArgument("open", path, `end must be "read" or "write", got ${describe(end)}`);
  }
  return end;
}

/** Wraps `fd` in a handle once it is known to be a FIFO this caller may trust. */
function adopt(fd: number, path: string, end: FifoEnd, trust: TrustOptions): FdHandle {
  const handle = end === "read"
    ? new FifoReader(fd, { name: path })
    : new FdHandle(fd, { name: path });
  try {
    const st = statFd(fd, path);
    if (st.type !== "fifo") {
      throw invalidArgument(
        "open",
        path,
        `not a FIFO (it is a ${st.type}); create one with createFifo()`,
      );
    }
    checkOwner(st, trust, "open", path, "FIFO");
  } catch (e) {
    handle.close();
    throw e;
  }
  return handle;
}

/**
 * One non-waiting attempt at `end`: the handle, or `null` if the other side
 * is not there yet. `state.reader` keeps a read end opened by an earlier
 * attempt (opening it is what a writer waits for).
 */
function attempt(
  path: string,
  end: FifoEnd,
  trust: TrustOptions,
  state: { reader?: FifoReader },
): FdHandle | null {
  if (end === "read") {
    state.reader ??= adopt(openOnce(path, "read")!, path, "read", trust) as FifoReader;
    return state.reader.probe() ? state.reader : null;
  }
  const fd = openOnce(path, "write");
  return fd === null ? null : adopt(fd, path, "write", trust);
}

/**
 * Opens one end of the FIFO at `path` if the other side is there now, else
 * returns `null`. Never waits: `"write"` needs a reader that has the FIFO
 * open, `"read"` a writer that has it open (or has written and gone).
 *
 * @example
 * ```ts
 * import { createFifo, removeFifo, tryOpenFifo } from "@ipckit/ipckit";
 * const path = await Deno.makeTempDir() + "/f";
 * createFifo(path);
 * console.log(tryOpenFifo(path, "write")); // null: nobody reads
 * removeFifo(path);
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT); EINVAL if `path` is not a FIFO;
 * `PermissionDenied` (EPERM) for a FIFO this user should not trust (see
 * {@linkcode TrustOptions}).
 */
export function tryOpenFifo(
  path: string,
  end: FifoEnd,
  options: TryOpenFifoOptions = {},
): FdHandle | null {
  checkPath(path, "open");
  checkEnd(end, path);
  optionsObject(options, "open", path);
  trustLevel(options, "open", path);
  const state: { reader?: FifoReader } = {};
  try {
    const handle = attempt(path, end, options, state);
    if (handle === null) state.reader?.close();
    return handle;
  } catch (e) {
    state.reader?.close();
    throw e;
  }
}

/**
 * An inotify descriptor that becomes readable whenever someone opens `path`:
 * how a FIFO end learns that its peer arrived, without a blocking `open()`.
 * `null` if inotify is unavailable (then callers poll on a timer).
 */
function watchOpens(path: string): FdHandle | null {
  const C = unistd();
  const lib = libc();
  const ino = lib.inotify_init1(C.IN_NONBLOCK | C.IN_CLOEXEC);
  if (ino < 0) return null;
  const handle = new FdHandle(ino, { name: `inotify ${path}` });
  if (lib.inotify_add_watch(ino, cstr(path), C.IN_OPEN | C.IN_DONT_FOLLOW) < 0) {
    handle.close();
    return null;
  }
  return handle;
}

const drain = new Uint8Array(4096);

/** The mode to create with, or `undefined` not to create. */
function createMode(create: OpenFifoOptions["create"], path: string): number | undefined {
  if (create === undefined || create === false) return undefined;
  if (create === true) return 0o600;
  if (typeof create !== "object" || create === null) {
    throw invalidArgument("open", path, `create must be true or { mode }, got ${describe(create)}`);
  }
  return checkMode(create.mode === undefined ? 0o600 : create.mode, "mkfifo", path);
}

/**
 * Opens one end of the FIFO at `path`, waiting for the other side without
 * blocking the event loop, like a blocking `open()` would:
 *
 * - `"write"` resolves once a reader has the FIFO open;
 * - `"read"` resolves once a writer has it open (or has written and gone).
 *
 * With `create`, a FIFO is made first if nothing is at `path` (an existing
 * FIFO is used as it is, subject to the trust rule). The handle reads and
 * writes without blocking; `read()` returns `null` once every writer has
 * closed.
 *
 * @example
 * ```ts
 * import { openFifo, removeFifo } from "@ipckit/ipckit";
 * const path = await Deno.makeTempDir() + "/f";
 * const reading = openFifo(path, "read", { create: { mode: 0o600 }, timeout: 5_000 });
 * await new Promise((r) => setTimeout(r, 10)); // let the reader make the FIFO
 * using writer = await openFifo(path, "write", { timeout: 5_000 });
 * using reader = await reading;
 * await writer.writeAll(new TextEncoder().encode("hello"));
 * removeFifo(path);
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT) without `create`;
 * `PermissionDenied` (EACCES, or EPERM for a FIFO this user should not
 * trust); EINVAL if `path` is not a FIFO or an option is bad; `TimedOut` on
 * timeout.
 */
export async function openFifo(
  path: string,
  end: FifoEnd,
  options: OpenFifoOptions = {},
): Promise<FdHandle> {
  checkPath(path, "open");
  checkEnd(end, path);
  const deadline = startWait(options, "open", path); // refuses options that are not an object
  trustLevel(options, "open", path);
  const mode = createMode(options?.create, path);
  if (mode !== undefined) make(path, mode, true);
  const state: { reader?: FifoReader } = {};
  try {
    const first = attempt(path, end, options, state);
    if (first) return first;
    // Watch for opens first; the helper then looks again before waiting, so
    // a peer arriving in between is seen. A peer blocked in its own open()
    // (a reader waiting for a writer) raises no event until it returns, so
    // the helper also retries on a timer that backs off to 50 ms.
    using watch = watchOpens(path);
    return await untilWatched(() => attempt(path, end, options, state), deadline, {
      fd: watch?.fd,
      onReady: () => {
        while ((watch!.tryRead(drain) ?? 0) > 0);
      },
      maxBackoffMs: 50,
    });
  } catch (e) {
    state.reader?.close();
    throw e;
  }
}

/**
 * Removes the FIFO at `path`. Refuses to remove anything that is not a FIFO.
 *
 * @example
 * ```ts
 * import { createFifo, removeFifo } from "@ipckit/ipckit";
 * const path = await Deno.makeTempDir() + "/f";
 * createFifo(path);
 * removeFifo(path);
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT); EINVAL if `path` is not a FIFO.
 */
export function removeFifo(path: string): void {
  checkPath(path, "unlink");
  // statPath does not follow symlinks: a symlink to a FIFO is not a FIFO.
  const { type } = statPath(path);
  if (type !== "fifo") {
    const what = type === "other" ? "a symbolic link or special file" : `a ${type}`;
    throw invalidArgument("unlink", path, `not a FIFO (it is ${what}); not removed`);
  }
  const p = cstr(path);
  sys(() => libc().unlink(p), "unlink", path);
}
