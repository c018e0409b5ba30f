/**
 * Passing open descriptors between processes (`SCM_RIGHTS`) and sender
 * credentials (`SCM_CREDENTIALS`) over a Unix socket: `sendmsg`/`recvmsg`
 * with their control messages built and parsed here.
 *
 * Every received control message is walked with bounds checks and every
 * descriptor that arrived is either handed to the caller as an
 * {@linkcode FdHandle} or closed, including descriptors the caller did not
 * ask for. Received descriptors are close-on-exec (`MSG_CMSG_CLOEXEC`).
 *
 * @example Handing an open file to another process
 * ```ts
 * import { createSocketPair, receiveFds, sendFds } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair();
 * await sendFds(a, [0]); // our stdin
 * const [stdinCopy] = await receiveFds(b, { maxFds: 1, timeout: 1000 });
 * stdinCopy.close();
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { checkPath, describe, objectOf, optionsObject } from "./_validate.ts";
import { invalidArgument, ipcError, sys } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import { type FdLike, fdNumbers } from "./_msghdr.ts";
import { UnixSocket } from "./_socket.ts";
import type { WaitOptions } from "./wait.ts";

export { type FdLike, MAX_FDS_PER_MESSAGE } from "./_msghdr.ts";
export type { Credentials } from "./_sockopt.ts";

/** Options for {@linkcode receiveFds}. */
export interface ReceiveFdsOptions extends WaitOptions {
  /** Most descriptors to accept (default 1, at most 253). */
  maxFds?: number;
}

const ONE_BYTE = new Uint8Array(1);

/** EINVAL unless `socket` is a `UnixSocket` (before any syscall). */
function checkSocket(socket: unknown, syscall: string): void {
  if (!(socket instanceof UnixSocket)) {
    throw invalidArgument(
      syscall,
      objectOf(socket),
      `socket must be a UnixSocket, got ${describe(socket)}`,
    );
  }
}

/**
 * Sends descriptors over a connected Unix socket (`SCM_RIGHTS`) with
 * `data` (default: one zero byte, since a stream needs at least one byte to
 * carry them). The descriptors stay open here: the peer gets its own copies.
 *
 * @example
 * ```ts
 * import { createPipe, createSocketPair, receiveFds, sendFds } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair();
 * using pipe = createPipe();
 * await sendFds(a, [pipe.writer]);
 * const [writer] = await receiveFds(b, { timeout: 1000 });
 * await writer.writeAll(new TextEncoder().encode("via a passed fd"));
 * writer.close();
 * a.close();
 * b.close();
 * ```
 * @throws {IpcError} EBADF for a closed or invalid descriptor; EINVAL for
 * more than 253; EPIPE if the peer closed.
 */
export async function sendFds(
  socket: UnixSocket,
  fds: readonly FdLike[],
  options: WaitOptions & { data?: Uint8Array } = {},
): Promise<void> {
  checkSocket(socket, "sendmsg");
  optionsObject(options, "sendmsg", socket.name);
  const list = fdNumbers(fds, "sendmsg", socket.name);
  if (list.length === 0) throw invalidArgument("sendmsg", socket.name, "no descriptors to send");
  await socket.send(options.data ?? ONE_BYTE, { ...options, fds: list });
}

/**
 * Waits for a message carrying descriptors and returns them as handles the
 * caller owns (the message's bytes are dropped; use `socket.receive()` to
 * keep them). Descriptors beyond `maxFds` are closed and reported as
 * EMSGSIZE.
 *
 * @example
 * ```ts
 * import { createSocketPair, receiveFds, sendFds } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair("seqpacket");
 * await sendFds(a, [1]);
 * const got = await receiveFds(b, { maxFds: 4 });
 * for (const h of got) h.close();
 * a.close();
 * b.close();
 * ```
 * @throws {IpcError} EMSGSIZE when more descriptors came than `maxFds`;
 * ECONNRESET (code) when the connection ended first; ETIMEDOUT.
 */
export async function receiveFds(
  socket: UnixSocket,
  options: ReceiveFdsOptions = {},
): Promise<FdHandle[]> {
  checkSocket(socket, "recvmsg");
  optionsObject(options, "recvmsg", socket.name);
  const msg = await socket.receive({
    ...options,
    maxFds: options.maxFds ?? 1,
    messageSize: 4096,
  });
  if (msg.end) {
    throw ipcError({
      code: "ECONNRESET",
      syscall: "recvmsg",
      object: socket.name,
      detail: "the peer closed the connection before sending descriptors",
    });
  }
  return msg.fds;
}

/**
 * Opens a file as an {@linkcode FdHandle} (close-on-exec), so that its
 * descriptor can be passed to another process: `Deno.FsFile` does not expose
 * its descriptor. Regular files and devices only; the handle's non-blocking
 * flag has no effect on regular files.
 *
 * @example
 * ```ts
 * import { openFile } from "@ipckit/ipckit";
 * using hosts = openFile("/etc/hosts");
 * console.log((await hosts.readAll()).length > 0);
 * ```
 * @throws {IpcError} ENOENT, EACCES, EISDIR as `open(2)` reports them.
 */
export function openFile(path: string, access: "read" | "write" | "readwrite" = "read"): FdHandle {
  checkPath(path, "open");
  const C = unistd();
  const mode = access === "read"
    ? C.O_RDONLY
    : access === "write"
    ? C.O_WRONLY
    : access === "readwrite"
    ? C.O_RDWR
    : -1;
  if (mode < 0) throw invalidArgument("open", path, "access must be read, write or readwrite");
  const fd = sys(() => libc().open(cstr(path), mode | C.O_CLOEXEC | C.O_NOCTTY, 0), "open", path);
  return new FdHandle(fd, { name: path });
}
