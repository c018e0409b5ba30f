/**
 * Named pipes (FIFOs): create with {@linkcode makeFifo}, open either end with
 * {@linkcode openFifo} (which waits for the other side without blocking the
 * event loop, unlike a plain `open()`), remove with {@linkcode removeFifo}.
 *
 * @example A writer and a reader in one script
 * ```ts
 * import { makeFifo, openFifo, removeFifo } from "@ipckit/ipckit";
 * const path = await Deno.makeTempDir() + "/fifo";
 * makeFifo(path);
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
import { E, ERRNO } from "../ffi/errno.ts";
import { invalidArgument, ipcError, sys } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import { statFd, statPath } from "./_stat.ts";
import { checkMode, checkPath } from "./_validate.ts";
import { Deadline, sleep, waitFd, type WaitOptions } from "./wait.ts";

/** Options for {@linkcode makeFifo}. */
export interface MakeFifoOptions {
  /** Permission bits, applied exactly (the umask does not reduce them). Default `0o600`. */
  mode?: number;
}

/**
 * Creates a FIFO at `path` with `mkfifo()`, mode `0o600` unless asked.
 *
 * @throws {IpcError} `AlreadyExists` (EEXIST) if anything is at `path`;
 * `NotFound` (ENOENT) if the directory is missing.
 */
export function makeFifo(path: string, options: MakeFifoOptions = {}): void {
  checkPath(path, "mkfifo");
  const mode = checkMode(options.mode ?? 0o600, "mkfifo", path);
  const p = cstr(path);
  sys(() => libc().mkfifo(p, mode), "mkfifo", path, { kind: "path" });
  // mkfifo applies the umask; set the exact mode asked for.
  sys(() => libc().chmod(p, mode), "chmod", path);
}

/** Which end of a FIFO to open. */
export type FifoEnd = "read" | "write";

function openOnce(path: string, end: FifoEnd): number | null {
  const C = unistd();
  const flags = (end === "read" ? C.O_RDONLY : C.O_WRONLY) | C.O_NONBLOCK | C.O_CLOEXEC;
  const p = cstr(path);
  for (;;) {
    const fd = libc().open(p, flags, 0);
    if (fd >= 0) return fd;
    const e = ERRNO[0];
    if (e === E().ENXIO) return null; // write end, no reader yet
    if (e !== E().EINTR) throw ipcError({ errno: e, syscall: "open", object: path, kind: "FIFO" });
  }
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
    if (this.#pending < 0 || buffer.byteLength === 0) return super.tryRead(buffer);
    buffer[0] = this.#pending;
    this.#pending = -1;
    return 1 + (super.tryRead(buffer.subarray(1)) || 0);
  }
}

function adopt(fd: number, path: string, end: FifoEnd): FdHandle {
  const handle = end === "read"
    ? new FifoReader(fd, { name: path })
    : new FdHandle(fd, { name: path });
  try {
    const { type } = statFd(fd, path);
    if (type !== "fifo") {
      throw invalidArgument(
        "open",
        path,
        `not a FIFO (it is a ${type}); create one with makeFifo()`,
      );
    }
  } catch (e) {
    handle.close();
    throw e;
  }
  return handle;
}

/**
 * Opens the write end if a reader has the FIFO open now, else returns `null`.
 * Never waits.
 */
export function tryOpenFifoWriter(path: string): FdHandle | null {
  checkPath(path, "open");
  const fd = openOnce(path, "write");
  return fd === null ? null : adopt(fd, path, "write");
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
  if (lib.inotify_add_watch(ino, cstr(path), C.IN_OPEN) < 0) {
    handle.close();
    return null;
  }
  return handle;
}

const drain = new Uint8Array(4096);

/**
 * Opens one end of the FIFO at `path`, waiting for the other side without
 * blocking the event loop, like a blocking `open()` would:
 *
 * - `"write"` resolves once a reader has the FIFO open;
 * - `"read"` resolves once a writer has it open (or has written and gone).
 *
 * The handle reads and writes without blocking; `read()` returns `null` once
 * every writer has closed.
 *
 * @throws {IpcError} `NotFound` (ENOENT), `PermissionDenied` (EACCES),
 * EINVAL if `path` is not a FIFO, `TimedOut` on timeout.
 */
export async function openFifo(
  path: string,
  end: FifoEnd,
  options?: WaitOptions,
): Promise<FdHandle> {
  checkPath(path, "open");
  if (end !== "read" && end !== "write") {
    throw invalidArgument("open", path, `end must be "read" or "write", got ${String(end)}`);
  }
  const deadline = new Deadline(options, "open", path);
  let reader: FifoReader | undefined;
  const ready = (): FdHandle | null => {
    if (end === "read") {
      reader ??= adopt(openOnce(path, "read")!, path, "read") as FifoReader;
      return reader.probe() ? reader : null;
    }
    const fd = openOnce(path, "write");
    return fd === null ? null : adopt(fd, path, "write");
  };
  const first = ready();
  if (first) return first;
  // Watch for opens first, then look again, so a peer arriving in between is
  // seen. A peer blocked in its own open() (a reader waiting for a writer)
  // raises no event until it returns, so also retry on a timer that backs off
  // to 50 ms.
  using watch = watchOpens(path);
  let backoff = 1;
  try {
    for (;;) {
      const handle = ready();
      if (handle) return handle;
      deadline.check();
      const nap = Math.min(backoff, deadline.remaining());
      backoff = Math.min(backoff * 2, 50);
      if (!watch) {
        await deadline.race(sleep(nap));
        continue;
      }
      try {
        await waitFd(
          watch.fd,
          "read",
          new Deadline({ timeout: nap, signal: deadline.signal }, "open", path),
        );
        while ((watch.tryRead(drain) ?? 0) > 0);
      } catch (e) {
        if (!(e instanceof Deno.errors.TimedOut)) throw e;
      }
    }
  } catch (e) {
    reader?.close();
    throw e;
  }
}

/**
 * Removes the FIFO at `path`. Refuses to remove anything that is not a FIFO.
 *
 * @throws {IpcError} `NotFound` (ENOENT); EINVAL if `path` is not a FIFO.
 */
export function removeFifo(path: string): void {
  checkPath(path, "unlink");
  const { type } = statPath(path);
  if (type !== "fifo") {
    throw invalidArgument("unlink", path, `not a FIFO (it is a ${type}); not removed`);
  }
  const p = cstr(path);
  sys(() => libc().unlink(p), "unlink", path);
}
