/**
 * The calls that make a connected {@linkcode UnixSocket} without a
 * listener of our own: {@linkcode connectUnix} and
 * {@linkcode createSocketPair}.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { socket } from "../ffi/socket.ts";
import { invalidArgument, type IpcError, sys, trySys } from "./_errors.ts";
import { Deadline, untilAcquired, waitFd, type WaitOptions } from "./wait.ts";
import {
  type AddressOptions,
  connectError,
  openSocket,
  resolveAddress,
  type SocketType,
  typeName,
  typeNumber,
} from "./_address.ts";
import { getIntOption } from "./_sockopt.ts";
import { UnixSocket } from "./_socket.ts";
import { type BindOptions, bindTo, BoundSocket } from "./_bind.ts";
import { lstatSocket } from "./_path.ts";
import { trustLevel } from "./_trust.ts";

/** Options for {@linkcode connectUnix}. */
export interface ConnectOptions extends AddressOptions, WaitOptions, BindOptions {
  /** `"stream"` (default), `"dgram"` or `"seqpacket"`; must match the server's. */
  type?: SocketType;
  /**
   * Give the client its own address before connecting, so a datagram
   * server can answer it (`recvfrom` sees it): a path or `@name`, bound as
   * {@linkcode bindUnix} binds (mode 0600, removed on close; `mode`,
   * `replaceStale`, `trust` apply), or `true` for an abstract name the
   * kernel picks (autobind).
   */
  bind?: string | true;
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
 * A symlink at the path is followed only if its owner is trusted (this
 * user, root, `trustedUids`, or anyone with `trust: "any"`): a link another
 * user planted gives ELOOP.
 *
 * @throws {IpcError} ENOENT (no such socket), ECONNREFUSED (nothing
 * listening: a stale file), EPROTOTYPE (type mismatch), ELOOP (a planted
 * symlink), ENAMETOOLONG, ETIMEDOUT.
 */
export async function connectUnix(path: string, options: ConnectOptions = {}): Promise<UnixSocket> {
  const where = resolveAddress(path, options, "connect");
  const { name, addr, len } = where;
  const type = typeNumber(options.type, "connect", name);
  const deadline = new Deadline(options, "connect", name);
  const trust = trustLevel(options, "connect", name);
  if (options.bind !== undefined && options.bind !== true && typeof options.bind !== "string") {
    throw invalidArgument("bind", name, "bind must be an address string or true");
  }
  const local = options.bind === undefined || options.bind === true
    ? null
    : resolveAddress(options.bind, { padAbstract: options.padAbstract }, "bind");
  // connect() follows symlinks: refuse one planted at the path (trust: "any" allows it).
  if (!where.abstract && trust === "owner") lstatSocket(where.path, options, "connect", name);
  const fd0 = openSocket(type, name);
  let sock: UnixSocket;
  try {
    if (local) bindTo(fd0, local, type, options);
    else if (options.bind === true) autobind(fd0, name);
  } catch (e) {
    libc().close(fd0);
    throw e;
  }
  if (local) {
    sock = new BoundSocket(fd0, name, typeName(type), local.abstract ? null : local.path);
  } else {
    sock = new UnixSocket(fd0, { name, type: typeName(type) });
  }
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
        throw connectError((e as IpcError).errno, name, where.abstract);
      }
    };
    if (attempt() === null) await untilAcquired({ attempt }, deadline);
    if (pending) {
      await waitFd(fd, "write", deadline);
      const error = getIntOption(fd, "SO_ERROR", name);
      if (error !== 0) throw connectError(error, name, where.abstract);
    }
    return sock;
  } catch (e) {
    sock.close();
    throw e;
  }
}

/** Binds to an abstract name the kernel picks (`bind` with only the family). */
function autobind(fd: number, name: string): void {
  const addr = new Uint8Array(2);
  new DataView(addr.buffer).setUint16(0, socket().AF_UNIX, true);
  sys(() => libc().bind(fd, addr, 2), "bind", name);
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
