/**
 * Sockets at an address: {@linkcode UnixListener} ({@linkcode listenUnix})
 * for stream and seqpacket servers, and bound datagram sockets
 * ({@linkcode bindUnix}). Both create their socket file with an exact mode,
 * replace a stale file left by a dead server, and remove it on close.
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { socket } from "../ffi/socket.ts";
import { invalidArgument, sys, trySys } from "./_errors.ts";
import { objectOf } from "./_validate.ts";
import { Descriptor } from "./fd.ts";
import { Deadline, spinnerFor, untilReady, type WaitOptions } from "./wait.ts";
import type { TrustOptions } from "./_trust.ts";
import {
  type AddressOptions,
  checkCount,
  resolveAddress,
  type SocketType,
  typeName,
  typeNumber,
} from "./_address.ts";
import { BoundSocket, boundSocket } from "./_bind.ts";
import { UnixSocket } from "./_socket.ts";

/** Options for {@linkcode listenUnix} and {@linkcode bindUnix}. */
export interface ListenOptions extends AddressOptions, TrustOptions {
  /** `"stream"` (default) or `"seqpacket"` for listeners; `"dgram"` for {@linkcode bindUnix}. */
  type?: SocketType;
  /** Pending-connection queue length (default 128, at most `SOMAXCONN`). */
  backlog?: number;
  /**
   * Mode of the socket file (default `0o600`). The file is born with it
   * (the socket is `fchmod`ed before `bind`); the umask does not apply.
   */
  mode?: number;
  /**
   * Replace a stale socket file left by a dead server (default `true`): it
   * is removed only if it is a socket (never a symlink) whose owner passes
   * the trust rule (`trust`, `trustedUids`: by default this user or root;
   * another owner gives EPERM) and connecting to it is refused. A live
   * server's path always gives EADDRINUSE.
   */
  replaceStale?: boolean;
  /** Remove the socket file on `close()` (default `true`). */
  unlinkOnClose?: boolean;
  /**
   * Turn `SO_PASSCRED` on before binding, so that every message, even the
   * first, carries the sender's credentials (and accepted connections
   * inherit it). Turning it on later leaves messages already queued with
   * pid 0 credentials.
   */
  passCredentials?: boolean;
}

/**
 * A listening stream or seqpacket socket. Disposing closes it and removes
 * its socket file.
 *
 * @example
 * ```ts
 * import { connectUnix, listenUnix } from "@ipckit/ipckit";
 * using server = listenUnix("@ipckit-doc-listener");
 * using client = await connectUnix("@ipckit-doc-listener");
 * using conn = await server.accept({ timeout: 1000 });
 * await client.writeAll(new TextEncoder().encode("hi"));
 * console.log(conn.peerCredentials().uid === client.peerCredentials().uid); // true
 * ```
 */
export class UnixListener extends Descriptor implements AsyncIterable<UnixSocket> {
  /** The path (or `@name` for abstract) listened on. */
  readonly address: string;
  /** `"stream"` or `"seqpacket"`. */
  readonly type: SocketType;
  readonly #unlinkPath: string | null;

  /** @internal Use {@linkcode listenUnix}. */
  constructor(fd: number, address: string, type: SocketType, unlinkPath: string | null) {
    if (
      typeof address !== "string" || !["stream", "dgram", "seqpacket"].includes(type) ||
      (unlinkPath !== null && typeof unlinkPath !== "string")
    ) {
      throw invalidArgument("listen", objectOf(fd), "use listenUnix()");
    }
    super(fd, { name: address });
    this.address = address;
    this.type = type;
    this.#unlinkPath = unlinkPath;
  }

  /** Accepts a pending connection now, or returns `null` if none is waiting. */
  tryAccept(): UnixSocket | null {
    const fd = this.fd;
    const C = socket();
    const c = trySys(
      () => libc().accept4(fd, null, null, C.SOCK_NONBLOCK | C.SOCK_CLOEXEC),
      "accept4",
      this.name,
    );
    if (c === null) return null;
    return new UnixSocket(c, { name: `${this.address} (accepted fd ${c})`, type: this.type });
  }

  /**
   * Waits for the next connection.
   *
   * @throws {IpcError} ETIMEDOUT on timeout; EBADF if closed while waiting.
   */
  async accept(options?: WaitOptions): Promise<UnixSocket> {
    const deadline = new Deadline(options, "accept4", this.name);
    return this.tryAccept() ??
      await untilReady(this.fd, "read", () => this.tryAccept(), deadline, spinnerFor(this));
  }

  /** Yields connections until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncGenerator<UnixSocket> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (e) {
        if (this.closed) return;
        throw e;
      }
    }
  }

  /** Removes the socket file (if `unlinkOnClose`) when the listener is closed. */
  protected override onClose(): void {
    // Best effort: the file may already be gone, and close must not throw for it.
    if (this.#unlinkPath !== null) libc().unlink(cstr(this.#unlinkPath));
  }
}

/**
 * Listens on a Unix stream (or seqpacket) socket at `path`, created with
 * mode 0600. A stale socket file left by a dead server of this user is
 * replaced; a live server's path gives EADDRINUSE.
 *
 * @example
 * ```ts
 * import { listenUnix } from "@ipckit/ipckit";
 * using server = listenUnix("@ipckit-doc-demo", { type: "seqpacket" });
 * console.log(server.address); // @ipckit-doc-demo
 * ```
 * @throws {IpcError} ENAMETOOLONG for a path over 107 UTF-8 bytes;
 * EADDRINUSE when the address is taken; EACCES/ENOENT for the directory.
 */
export function listenUnix(path: string, options: ListenOptions = {}): UnixListener {
  const where = resolveAddress(path, options, "bind");
  const name = where.name;
  const typeNum = typeNumber(options.type, "listen", name);
  if (typeNum === socket().SOCK_DGRAM) {
    throw invalidArgument("listen", name, "datagram sockets do not listen: use bindUnix()");
  }
  const backlog = checkCount(options.backlog ?? 128, "backlog", "listen", name, socket().SOMAXCONN);
  const fd = boundSocket(where, typeNum, options);
  const unlinkPath = !where.abstract && (options.unlinkOnClose ?? true) ? where.path : null;
  try {
    sys(() => libc().listen(fd, backlog), "listen", name);
  } catch (e) {
    libc().close(fd);
    if (unlinkPath) libc().unlink(cstr(unlinkPath));
    throw e;
  }
  return new UnixListener(fd, name, typeName(typeNum), unlinkPath);
}

/**
 * Binds a datagram socket at `path` (mode 0600) to receive messages sent to
 * it; disposing closes it and removes its file.
 *
 * @example
 * ```ts
 * import { bindUnix, connectUnix } from "@ipckit/ipckit";
 * using inbox = bindUnix("@ipckit-doc-inbox");
 * using out = await connectUnix("@ipckit-doc-inbox", { type: "dgram" });
 * await out.send(new TextEncoder().encode("one datagram"));
 * console.log((await inbox.receive({ timeout: 1000 })).bytes.length); // 12
 * ```
 * @throws {IpcError} ENAMETOOLONG, EADDRINUSE, as for {@linkcode listenUnix}.
 */
export function bindUnix(path: string, options: Omit<ListenOptions, "backlog"> = {}): UnixSocket {
  const where = resolveAddress(path, options, "bind");
  const typeNum = typeNumber(options.type ?? "dgram", "bind", where.name);
  if (typeNum !== socket().SOCK_DGRAM) {
    throw invalidArgument(
      "bind",
      where.name,
      "bindUnix() is for datagram sockets: use listenUnix()",
    );
  }
  const fd = boundSocket(where, typeNum, options);
  const unlinkPath = !where.abstract && (options.unlinkOnClose ?? true) ? where.path : null;
  return new BoundSocket(fd, where.name, "dgram", unlinkPath);
}
