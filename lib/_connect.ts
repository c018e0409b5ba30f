/**
 * The calls that make a connected {@linkcode UnixSocket} without a
 * listener of our own: {@linkcode connectUnix} and
 * {@linkcode createSocketPair}.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { errnoName } from "../ffi/errno.ts";
import { socket } from "../ffi/socket.ts";
import { type IpcError, ipcError, sys, trySys } from "./_errors.ts";
import { Deadline, untilAcquired, waitFd, type WaitOptions } from "./wait.ts";
import {
  type AddressOptions,
  display,
  encodeAddress,
  openSocket,
  type SocketType,
  typeName,
  typeNumber,
} from "./_address.ts";
import { getIntOption } from "./_sockopt.ts";
import { UnixSocket } from "./_socket.ts";

/** Options for {@linkcode connectUnix}. */
export interface ConnectOptions extends AddressOptions, WaitOptions {
  /** `"stream"` (default), `"dgram"` or `"seqpacket"`; must match the server's. */
  type?: SocketType;
}

/**
 * Connects to the Unix socket at `path`. A full accept queue is waited out
 * (up to `timeout`); nothing listening fails at once.
 *
 * @example
 * ```ts
 * import { connectUnix } from "@ipckit/ipckit";
 * try {
 *   await connectUnix("/nonexistent/ipckit.sock", { timeout: 100 });
 * } catch (e) {
 *   console.log(e instanceof Deno.errors.NotFound); // true
 * }
 * ```
 * @throws {IpcError} ENOENT (no such socket), ECONNREFUSED (nothing
 * listening: a stale file), EPROTOTYPE (type mismatch), ENAMETOOLONG,
 * ETIMEDOUT.
 */
export async function connectUnix(path: string, options: ConnectOptions = {}): Promise<UnixSocket> {
  const name = display(path, options.abstract);
  const type = typeNumber(options.type, "connect", name);
  const { addr, len } = encodeAddress(path, options.abstract, "connect");
  const deadline = new Deadline(options, "connect", name);
  const sock = new UnixSocket(openSocket(type, name), { name, type: typeName(type) });
  try {
    const fd = sock.fd;
    let pending = false;
    const attempt = (): true | null => {
      try {
        // EAGAIN: the listener's accept queue is full; wait and try again.
        return trySys(() => libc().connect(fd, addr, len), "connect", name) === null ? null : true;
      } catch (e) {
        const code = (e as IpcError).code;
        // EINPROGRESS, or EALREADY/EISCONN after an EINTR retry: it goes on in the kernel.
        if (code === "EISCONN") return true;
        if (code === "EINPROGRESS" || code === "EALREADY") {
          pending = true;
          return true;
        }
        throw connectError((e as IpcError).errno, name);
      }
    };
    if (attempt() === null) await untilAcquired({ attempt }, deadline);
    if (pending) {
      await waitFd(fd, "write", deadline);
      const error = getIntOption(fd, "SO_ERROR", name);
      if (error !== 0) throw connectError(error, name);
    }
    return sock;
  } catch (e) {
    sock.close();
    throw e;
  }
}

function connectError(e: number, name: string): IpcError {
  return ipcError({
    errno: e,
    syscall: "connect",
    object: name,
    kind: "socket",
    hint: errnoName(e) === "ECONNREFUSED"
      ? "nothing is listening there (a stale socket file?)"
      : errnoName(e) === "ENOENT"
      ? "no socket at that path: is the server running?"
      : undefined,
  });
}

/**
 * `socketpair()`: two connected sockets of `type`, for talking to a child
 * (pass one end with `withInheritedFds`) or to hand work between processes.
 *
 * @example
 * ```ts
 * import { createSocketPair } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair("dgram");
 * await a.send(new Uint8Array([1, 2, 3]));
 * console.log((await b.receive()).bytes); // Uint8Array(3) [ 1, 2, 3 ]
 * a.close();
 * b.close();
 * ```
 * @throws {IpcError} EMFILE when out of descriptors.
 */
export function createSocketPair(type: SocketType = "stream"): [UnixSocket, UnixSocket] {
  const n = typeNumber(type, "socketpair");
  const C = socket();
  const fds = new Int32Array(2);
  sys(
    () => libc().socketpair(C.AF_UNIX, n | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0, fds),
    "socketpair",
  );
  return [
    new UnixSocket(fds[0], { name: `socketpair[${fds[0]}]`, type }),
    new UnixSocket(fds[1], { name: `socketpair[${fds[1]}]`, type }),
  ];
}
