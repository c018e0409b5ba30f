/**
 * Anonymous pipes: `pipe2()` with both ends as {@linkcode FdHandle}s, pipe
 * capacity, and handing an end to a child process.
 *
 * @example
 * ```ts
 * import { createPipe } from "@ipckit/ipckit";
 * using pipe = createPipe();
 * await pipe.writer.writeAll(new TextEncoder().encode("ping"));
 * const buf = new Uint8Array(4);
 * await pipe.reader.read(buf);
 * ```
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { invalidArgument, sys } from "./_errors.ts";
import { Descriptor, FdHandle } from "./fd.ts";
import { checkFlag, describe, optionsObject } from "./_validate.ts";

/** Options for {@linkcode createPipe}. */
export interface PipeOptions {
  /** Close both ends in programs this process starts (default `true`). */
  closeOnExec?: boolean;
  /** Packet mode (`O_DIRECT`): each write is one message for reads. */
  packet?: boolean;
}

/** Both ends of a pipe; disposing closes both. */
export interface Pipe extends Disposable {
  /** The read end. */
  readonly reader: FdHandle;
  /** The write end. */
  readonly writer: FdHandle;
}

/**
 * Creates a pipe with `pipe2()`. Both ends are non-blocking for this process
 * and close-on-exec unless `closeOnExec: false`.
 *
 * @example Packet mode: each write is read back as one message
 * ```ts
 * import { createPipe } from "@ipckit/ipckit";
 * using pipe = createPipe({ packet: true });
 * await pipe.writer.write(new TextEncoder().encode("one"));
 * await pipe.writer.write(new TextEncoder().encode("two"));
 * const buf = new Uint8Array(64);
 * console.log(await pipe.reader.read(buf)); // 3: only "one"
 * ```
 *
 * @throws {IpcError} EMFILE/ENFILE when out of descriptors.
 */
export function createPipe(options: PipeOptions = {}): Pipe {
  const o = optionsObject(options, "pipe2");
  const closeOnExec = checkFlag(o.closeOnExec, "closeOnExec", "pipe2", undefined, true);
  const packet = checkFlag(o.packet, "packet", "pipe2", undefined);
  const C = unistd();
  let flags = C.O_NONBLOCK;
  if (closeOnExec) flags |= C.O_CLOEXEC;
  if (packet) flags |= C.O_DIRECT;
  const fds = new Int32Array(2);
  sys(() => libc().pipe2(fds, flags), "pipe2");
  const reader = new FdHandle(fds[0], { name: `pipe[${fds[0]}]` });
  const writer = new FdHandle(fds[1], { name: `pipe[${fds[1]}]` });
  return {
    reader,
    writer,
    [Symbol.dispose]() {
      reader.close();
      writer.close();
    },
  };
}

/**
 * The capacity in bytes of the pipe or FIFO behind `handle` (`F_GETPIPE_SZ`).
 *
 * @example
 * ```ts
 * import { createPipe, pipeCapacity } from "@ipckit/ipckit";
 * using pipe = createPipe();
 * console.log(pipeCapacity(pipe.writer)); // 65536 on Linux by default
 * ```
 *
 * @throws {IpcError} EBADF if the handle is not a pipe or FIFO.
 */
export function pipeCapacity(handle: FdHandle): number {
  const fd = handleFd(handle, "fcntl(F_GETPIPE_SZ)");
  return sys(() => libc().fcntl(fd, unistd().F_GETPIPE_SZ, 0), "fcntl(F_GETPIPE_SZ)", handle.name);
}

/**
 * Sets the capacity of the pipe or FIFO behind `handle` (`F_SETPIPE_SZ`);
 * the kernel rounds up to a power-of-two number of pages. Returns the
 * capacity actually set.
 *
 * @example
 * ```ts
 * import { createPipe, setPipeCapacity } from "@ipckit/ipckit";
 * using pipe = createPipe();
 * console.log(setPipeCapacity(pipe.writer, 100_000)); // 131072: rounded up
 * ```
 *
 * @throws {IpcError} EPERM above `/proc/sys/fs/pipe-max-size` without
 * CAP_SYS_RESOURCE; EBUSY below the data already in the pipe.
 */
export function setPipeCapacity(handle: FdHandle, bytes: number): number {
  const fd = handleFd(handle, "fcntl(F_SETPIPE_SZ)");
  if (typeof bytes !== "number" || !Number.isInteger(bytes) || bytes <= 0 || bytes > 0x7fffffff) {
    throw invalidArgument(
      "fcntl(F_SETPIPE_SZ)",
      handle.name,
      `capacity must be a positive integer up to 2^31-1, got ${describe(bytes)}`,
    );
  }
  return sys(
    () => libc().fcntl(fd, unistd().F_SETPIPE_SZ, bytes),
    "fcntl(F_SETPIPE_SZ)",
    handle.name,
    { hint: "the limit for unprivileged processes is /proc/sys/fs/pipe-max-size" },
  );
}

/** The descriptor of `handle`, which must be an ipckit handle (EINVAL otherwise, EBADF once closed). */
function handleFd(handle: unknown, syscall: string): number {
  if (!(handle instanceof Descriptor)) {
    throw invalidArgument(
      syscall,
      undefined,
      `expected a pipe or FIFO handle, got ${describe(handle)}`,
    );
  }
  return handle.fd;
}
