/**
 * Unix domain sockets of every type (`stream`, `dgram`, `seqpacket`), at
 * filesystem paths or abstract names, plus socket pairs: what
 * `Deno.listen({ transport: "unix" })` does not cover. Every socket is
 * non-blocking and close-on-exec; accept, connect, send and receive try once
 * on the JS thread and wait through the shared reactor, with
 * `{ signal, timeout }`. Sends never raise SIGPIPE (`MSG_NOSIGNAL`).
 *
 * @example A seqpacket echo over a socket pair
 * ```ts
 * import { createSocketPair } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair("seqpacket");
 * await a.send(new TextEncoder().encode("ping"));
 * const msg = await b.receive({ timeout: 1000 });
 * console.log(new TextDecoder().decode(msg.data)); // ping
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { socket, socketLayout } from "../ffi/socket.ts";
import { off } from "../ffi/struct.ts";
import { E, ERRNO } from "../ffi/errno.ts";
import { invalidArgument, type IpcError, ipcError, sys, sysOnce, trySys } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import {
  Deadline,
  spinnerFor,
  untilAcquired,
  untilReady,
  waitFd,
  type WaitOptions,
} from "./wait.ts";
import { checkMode } from "./_validate.ts";
import { statPath } from "./_stat.ts";
import {
  type Credentials,
  type FdLike,
  fdNumbers,
  peerCredentialsOf,
  tryReceiveMessage,
  trySendMessage,
} from "./fdpass.ts";

/** The three Unix socket types. */
export type SocketType = "stream" | "dgram" | "seqpacket";

/** Longest `sun_path` content in bytes: 108 minus the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Where a socket lives. */
export interface AddressOptions {
  /**
   * Treat the name as an abstract-namespace address (Linux): no file is
   * created and no file permissions apply; any process in the network
   * namespace can connect, so check {@linkcode UnixSocket.peerCredentials}.
   */
  abstract?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function typeNumber(type: unknown, syscall: string, object?: string): number {
  const C = socket();
  switch (type ?? "stream") {
    case "stream":
      return C.SOCK_STREAM;
    case "dgram":
      return C.SOCK_DGRAM;
    case "seqpacket":
      return C.SOCK_SEQPACKET;
  }
  throw invalidArgument(
    syscall,
    object,
    `type must be "stream", "dgram" or "seqpacket", got ${JSON.stringify(type)}`,
  );
}

function typeName(n: number): SocketType {
  const C = socket();
  return n === C.SOCK_DGRAM ? "dgram" : n === C.SOCK_SEQPACKET ? "seqpacket" : "stream";
}

/** How a name is shown in errors and `name`: abstract names start with `@`. */
function display(path: string, abstract: boolean | undefined): string {
  return abstract ? `@${path}` : path;
}

/**
 * Encodes a `sockaddr_un`, refusing (never truncating) names longer than
 * `sun_path`: at most 107 UTF-8 bytes, for abstract names 107 after the
 * leading NUL.
 */
function encodeAddress(
  path: unknown,
  abstract: boolean | undefined,
  syscall: string,
): { addr: Uint8Array<ArrayBuffer>; len: number } {
  if (typeof path !== "string" || (path.length === 0 && !abstract)) {
    throw invalidArgument(syscall, String(path), "socket path must be a non-empty string");
  }
  if (!abstract && path.includes("\0")) {
    throw invalidArgument(syscall, path, "socket path must not contain NUL");
  }
  const L = socketLayout().sockaddr_un;
  const bytes = encoder.encode(path);
  if (bytes.length > MAX_SOCKET_PATH_BYTES) {
    throw ipcError({
      code: "ENAMETOOLONG",
      syscall,
      object: display(path, abstract),
      detail: `socket ${abstract ? "name" : "path"} is ${bytes.length} UTF-8 bytes; ` +
        `the limit is ${MAX_SOCKET_PATH_BYTES} (sun_path)`,
      hint: abstract ? undefined : "use a shorter directory, or a relative path from a chdir",
    });
  }
  const addr = new Uint8Array(L.size);
  new DataView(addr.buffer).setUint16(off(L, "sun_family"), socket().AF_UNIX, true);
  const at = off(L, "sun_path");
  if (abstract) {
    addr.set(bytes, at + 1);
    return { addr, len: at + 1 + bytes.length };
  }
  addr.set(bytes, at);
  return { addr, len: at + bytes.length + 1 };
}

/** Decodes a `sockaddr_un` of `len` bytes: a path, `@name` for abstract, `null` if unnamed. */
function decodeAddress(addr: Uint8Array, len: number): string | null {
  const at = off(socketLayout().sockaddr_un, "sun_path");
  if (len <= at) return null;
  if (addr[at] === 0) return "@" + decoder.decode(addr.subarray(at + 1, len));
  const end = addr.subarray(at, len).indexOf(0);
  return decoder.decode(addr.subarray(at, end < 0 ? len : at + end));
}

function openSocket(type: number, name: string): number {
  const C = socket();
  return sys(
    () => libc().socket(C.AF_UNIX, type | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0),
    "socket",
    name,
  );
}

function closeQuietly(fd: number): void {
  libc().close(fd);
}

/** Options for {@linkcode UnixSocket.send}. */
export interface SendOptions extends WaitOptions {
  /** Descriptors to pass along (`SCM_RIGHTS`, at most 253); they stay open here. */
  fds?: readonly FdLike[];
  /**
   * Credentials to attach (`SCM_CREDENTIALS`). The kernel checks them: an
   * unprivileged sender may only send its own pid, uid and gid (EPERM
   * otherwise). The receiver sees credentials only with `passCredentials` on.
   */
  credentials?: Credentials;
}

/** Options for {@linkcode UnixSocket.receive}. */
export interface ReceiveOptions extends WaitOptions {
  /**
   * Largest message (dgram, seqpacket) or chunk (stream) to accept, in
   * bytes; default 65536. A longer datagram is discarded and reported as
   * EMSGSIZE, never silently truncated.
   */
  maxBytes?: number;
  /**
   * Most descriptors to accept with this message; default 0. If the peer
   * sends more, every descriptor that arrived is closed and EMSGSIZE is
   * thrown.
   */
  maxFds?: number;
}

/** One received message (or, for stream sockets, one chunk of the stream). */
export interface ReceivedMessage {
  /** The bytes received. */
  data: Uint8Array<ArrayBuffer>;
  /** Descriptors that came with it; the caller owns and must close them. */
  fds: FdHandle[];
  /** Sender's credentials, if `passCredentials` is on for the receiving socket. */
  credentials?: Credentials;
  /**
   * `true` when the peer has closed (or shut down writing on) a stream or
   * seqpacket connection; `data` is then empty. An empty seqpacket message
   * cannot be told apart from the end, as in C.
   */
  end: boolean;
}

/** Options for wrapping a descriptor in a {@linkcode UnixSocket}. */
export interface UnixSocketOptions {
  /** Name shown in errors. */
  name?: string;
  /** The socket's type; read from the descriptor (`SO_TYPE`) when omitted. */
  type?: SocketType;
}

function checkCount(value: unknown, what: string, syscall: string, object: string, max: number) {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw invalidArgument(
      syscall,
      object,
      `${what} must be an integer between 0 and ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * A connected (or bound datagram) Unix socket. It is an
 * {@linkcode FdHandle}, so stream sockets also have `read`/`write`/
 * `writeAll`/`readable`/`writable`, and it can itself be passed to another
 * process with `send(..., { fds: [socket] })`.
 *
 * @example Asking who is on the other end
 * ```ts
 * import { createSocketPair } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair();
 * console.log(a.peerCredentials().pid === Deno.pid); // true
 * a.close();
 * b.close();
 * ```
 */
export class UnixSocket extends FdHandle {
  /** `"stream"`, `"dgram"` or `"seqpacket"`. */
  readonly type: SocketType;

  /**
   * Takes ownership of a socket descriptor (made non-blocking).
   *
   * @throws {IpcError} ENOTSOCK if `fd` is not a socket.
   */
  constructor(fd: number, options: UnixSocketOptions = {}) {
    super(fd, { name: options.name ?? `socket ${fd}` });
    if (options.type !== undefined) {
      typeNumber(options.type, "socket", this.name);
      this.type = options.type;
    } else {
      try {
        this.type = typeName(this.#getInt(socket().SO_TYPE, "SO_TYPE"));
      } catch (e) {
        this.release();
        throw e;
      }
    }
  }

  /**
   * Turns a received (or otherwise owned) descriptor handle into a socket;
   * `handle` is released and must not be used afterwards.
   *
   * @example
   * ```ts
   * import { createSocketPair, UnixSocket } from "@ipckit/ipckit";
   * const [a, b] = createSocketPair();
   * const [c, d] = createSocketPair();
   * await a.send(new Uint8Array([1]), { fds: [c] });
   * const msg = await b.receive({ maxFds: 1 });
   * using passed = UnixSocket.from(msg.fds[0]);
   * for (const s of [a, b, c, d]) s.close();
   * ```
   * @throws {IpcError} ENOTSOCK if the descriptor is not a socket.
   */
  static from(handle: FdHandle): UnixSocket {
    const fd = handle.fd;
    // Check first, so a non-socket stays owned by `handle`.
    const buf = new Int32Array(1);
    const len = new Uint32Array([4]);
    sysOnce(
      () => libc().getsockopt(fd, socket().SOL_SOCKET, socket().SO_TYPE, buf, len),
      "getsockopt(SO_TYPE)",
      handle.name,
    );
    return new UnixSocket(handle.release(), { name: handle.name, type: typeName(buf[0]) });
  }

  #getInt(option: number, label: string): number {
    const fd = this.fd;
    const buf = new Int32Array(1);
    const len = new Uint32Array([4]);
    sysOnce(
      () => libc().getsockopt(fd, socket().SOL_SOCKET, option, buf, len),
      `getsockopt(${label})`,
      this.name,
    );
    return buf[0];
  }

  #setInt(option: number, label: string, value: number): void {
    const fd = this.fd;
    const buf = new Int32Array([value]);
    sysOnce(
      () => libc().setsockopt(fd, socket().SOL_SOCKET, option, buf, 4),
      `setsockopt(${label})`,
      this.name,
    );
  }

  get #message(): boolean {
    return this.type !== "stream";
  }

  /**
   * Reads what is available now (`recv`): the byte count, `0` at end of
   * stream, `null` if nothing is there yet. On dgram and seqpacket sockets a
   * message longer than `buffer` throws EMSGSIZE (it is discarded), and an
   * empty message reads as `0`: prefer {@linkcode receive} there.
   */
  override tryRead(buffer: Uint8Array): number | null {
    const fd = this.fd;
    const len = Math.min(buffer.byteLength, 1 << 30);
    const flags = this.#message ? socket().MSG_TRUNC : 0;
    for (;;) {
      const n = libc().recv(fd, buffer, BigInt(len), flags);
      if (n >= 0) {
        if (n > len) {
          throw ipcError({
            code: "EMSGSIZE",
            syscall: "recv",
            object: this.name,
            detail: `a ${n}-byte message did not fit in ${len} bytes and was discarded`,
          });
        }
        return n;
      }
      const e = ERRNO[0];
      if (e === E().EAGAIN) return null;
      if (e !== E().EINTR) throw ipcError({ errno: e, syscall: "recv", object: this.name });
    }
  }

  /**
   * Sends what fits now (`send` with `MSG_NOSIGNAL`): the byte count, or
   * `null` if the socket buffer is full. A closed peer gives EPIPE, never
   * SIGPIPE.
   */
  override tryWrite(data: Uint8Array): number | null {
    const fd = this.fd;
    const len = Math.min(data.byteLength, 1 << 30);
    const flags = socket().MSG_NOSIGNAL;
    for (;;) {
      const n = libc().send(fd, data, BigInt(len), flags);
      if (n >= 0) return n;
      const e = ERRNO[0];
      if (e === E().EAGAIN) return null;
      if (e !== E().EINTR) throw ipcError({ errno: e, syscall: "send", object: this.name });
    }
  }

  /**
   * One non-blocking `sendmsg`: the bytes sent, or `null` if there is no
   * room now. On a stream socket fewer bytes than given may be sent (the
   * descriptors, if any, went with them).
   *
   * @throws {IpcError} EPIPE if the peer closed; EMSGSIZE for a datagram
   * larger than the send buffer; EBADF for a bad descriptor in `fds`.
   */
  trySend(data: Uint8Array, options: Omit<SendOptions, "signal" | "timeout"> = {}): number | null {
    const fds = fdNumbers(options.fds ?? [], "sendmsg", this.name);
    if (fds.length === 0 && !options.credentials) return this.tryWrite(data);
    if (fds.length && this.type === "stream" && data.byteLength === 0) {
      throw invalidArgument(
        "sendmsg",
        this.name,
        "descriptors on a stream socket must travel with at least one byte of data",
      );
    }
    return trySendMessage(this.fd, this.name, data, fds, options.credentials);
  }

  /**
   * Sends `data` as one message (dgram, seqpacket) or all of it (stream),
   * waiting for room as needed, with `fds` and `credentials` attached to
   * the first part.
   *
   * @throws {IpcError} EPIPE if the peer closed; EMSGSIZE for a message
   * larger than the send buffer; ETIMEDOUT on timeout.
   */
  async send(data: Uint8Array, options: SendOptions = {}): Promise<void> {
    const fds = fdNumbers(options.fds ?? [], "sendmsg", this.name);
    const extra = { fds, credentials: options.credentials };
    let sent = this.trySend(data, extra);
    if (sent === null) {
      const deadline = new Deadline(options, "sendmsg", this.name);
      sent = await untilReady(
        this.fd,
        "write",
        () => this.trySend(data, extra),
        deadline,
        spinnerFor(this),
      );
    }
    if (sent < data.byteLength && this.type === "stream") {
      await this.writeAll(data.subarray(sent), options);
    }
  }

  /**
   * Receives one message (or stream chunk) if one is there now, with any
   * descriptors and credentials; `null` if nothing is ready.
   *
   * @throws {IpcError} EMSGSIZE when the message or its descriptors did not
   * fit (`maxBytes`, `maxFds`); every descriptor that arrived is closed.
   */
  tryReceive(options: Omit<ReceiveOptions, "signal" | "timeout"> = {}): ReceivedMessage | null {
    const maxBytes = checkCount(
      options.maxBytes ?? 65536,
      "maxBytes",
      "recvmsg",
      this.name,
      1 << 30,
    );
    const maxFds = checkCount(options.maxFds ?? 0, "maxFds", "recvmsg", this.name, 253);
    return this.#tryReceive(new Uint8Array(maxBytes), maxFds);
  }

  #tryReceive(buffer: Uint8Array<ArrayBuffer>, maxFds: number): ReceivedMessage | null {
    const raw = tryReceiveMessage(this.fd, this.name, buffer, maxFds, this.#message);
    if (raw === null) return null;
    const end = raw.bytes === 0 && raw.fds.length === 0 && this.type !== "dgram";
    const data = raw.bytes * 2 >= buffer.byteLength
      ? buffer.subarray(0, raw.bytes)
      : buffer.slice(0, raw.bytes);
    return { data, fds: raw.fds, credentials: raw.credentials, end };
  }

  /**
   * Waits for one message (or stream chunk), with any descriptors (up to
   * `maxFds`) and the sender's credentials (with `passCredentials` on).
   * At the end of a connection it resolves with `end: true`.
   *
   * @throws {IpcError} EMSGSIZE when the message or its descriptors did not
   * fit; ETIMEDOUT on timeout.
   */
  async receive(options: ReceiveOptions = {}): Promise<ReceivedMessage> {
    const maxBytes = checkCount(
      options.maxBytes ?? 65536,
      "maxBytes",
      "recvmsg",
      this.name,
      1 << 30,
    );
    const maxFds = checkCount(options.maxFds ?? 0, "maxFds", "recvmsg", this.name, 253);
    const buffer = new Uint8Array(maxBytes);
    return this.#tryReceive(buffer, maxFds) ??
      await untilReady(
        this.fd,
        "read",
        () => this.#tryReceive(buffer, maxFds),
        new Deadline(options, "recvmsg", this.name),
        spinnerFor(this),
      );
  }

  /**
   * The connected peer's pid, uid and gid (`SO_PEERCRED`), as the kernel
   * recorded them at connect time: the identity to authenticate with.
   *
   * @throws {IpcError} ENOTCONN on an unconnected datagram socket.
   */
  peerCredentials(): Credentials {
    return peerCredentialsOf(this.fd, this.name);
  }

  /**
   * `SO_PASSCRED`: when on, every received message carries the sender's
   * credentials. Messages queued before it was turned on report pid 0: use
   * the `passCredentials` option of {@linkcode bindUnix} to have it from the
   * start.
   */
  get passCredentials(): boolean {
    return this.#getInt(socket().SO_PASSCRED, "SO_PASSCRED") !== 0;
  }
  set passCredentials(on: boolean) {
    this.#setInt(socket().SO_PASSCRED, "SO_PASSCRED", on ? 1 : 0);
  }

  /** `SO_SNDBUF` in bytes (the kernel reports double what was set, for bookkeeping). */
  get sendBufferSize(): number {
    return this.#getInt(socket().SO_SNDBUF, "SO_SNDBUF");
  }
  set sendBufferSize(bytes: number) {
    checkCount(bytes, "sendBufferSize", "setsockopt(SO_SNDBUF)", this.name, 0x3fffffff);
    this.#setInt(socket().SO_SNDBUF, "SO_SNDBUF", bytes);
  }

  /** `SO_RCVBUF` in bytes (the kernel reports double what was set). */
  get receiveBufferSize(): number {
    return this.#getInt(socket().SO_RCVBUF, "SO_RCVBUF");
  }
  set receiveBufferSize(bytes: number) {
    checkCount(bytes, "receiveBufferSize", "setsockopt(SO_RCVBUF)", this.name, 0x3fffffff);
    this.#setInt(socket().SO_RCVBUF, "SO_RCVBUF", bytes);
  }

  /** The address this socket is bound to: a path, `@name` (abstract), or `null`. */
  get localAddress(): string | null {
    return this.#address("getsockname");
  }

  /** The connected peer's address: a path, `@name` (abstract), or `null` if unnamed. */
  get peerAddress(): string | null {
    return this.#address("getpeername");
  }

  #address(call: "getsockname" | "getpeername"): string | null {
    const fd = this.fd;
    const addr = new Uint8Array(socketLayout().sockaddr_un.size);
    const len = new Uint32Array([addr.byteLength]);
    sysOnce(() => libc()[call](fd, addr, len), call, this.name);
    return decodeAddress(addr, Math.min(len[0], addr.byteLength));
  }

  /**
   * `shutdown()`: stop sending (`"write"`, the default: the peer reads end
   * of stream), receiving (`"read"`), or both. The descriptor stays open.
   */
  shutdown(how: "read" | "write" | "both" = "write"): void {
    const C = socket();
    const n = how === "read"
      ? C.SHUT_RD
      : how === "write"
      ? C.SHUT_WR
      : how === "both"
      ? C.SHUT_RDWR
      : -1;
    if (n < 0) throw invalidArgument("shutdown", this.name, `how must be read, write or both`);
    const fd = this.fd;
    sysOnce(() => libc().shutdown(fd, n), "shutdown", this.name);
  }
}

/** Options for {@linkcode listenUnix} and {@linkcode bindUnix}. */
export interface ListenOptions extends AddressOptions {
  /** `"stream"` (default) or `"seqpacket"` for listeners; `"dgram"` for {@linkcode bindUnix}. */
  type?: SocketType;
  /** Pending-connection queue length (default 128, at most `SOMAXCONN`). */
  backlog?: number;
  /** Mode of the socket file (default `0o600`; the umask does not apply). */
  mode?: number;
  /**
   * Replace a stale socket file left by a dead server (default `true`): it
   * is removed only if it is a socket owned by this user and connecting to
   * it is refused. A live server's path always gives EADDRINUSE.
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

function isStale(path: string, addr: Uint8Array<ArrayBuffer>, len: number, type: number): boolean {
  let st;
  try {
    st = statPath(path);
  } catch {
    return false;
  }
  if (st.type !== "socket" || st.uid !== libc().geteuid()) return false;
  const probe = libc().socket(
    socket().AF_UNIX,
    type | socket().SOCK_NONBLOCK | socket().SOCK_CLOEXEC,
    0,
  );
  if (probe < 0) return false;
  const r = libc().connect(probe, addr, len);
  const e = r === -1 ? ERRNO[0] : 0;
  closeQuietly(probe);
  return e === E().ECONNREFUSED;
}

/** Creates, binds (replacing a stale file if allowed) and chmods a socket; returns the fd. */
function bound(path: string, options: ListenOptions, type: number, syscall: string): number {
  const abstract = options.abstract ?? false;
  const name = display(path, abstract);
  const { addr, len } = encodeAddress(path, abstract, syscall);
  const mode = checkMode(options.mode ?? 0o600, syscall, name);
  const fd = openSocket(type, name);
  try {
    if (options.passCredentials) {
      const on = new Int32Array([1]);
      const C = socket();
      sysOnce(
        () => libc().setsockopt(fd, C.SOL_SOCKET, C.SO_PASSCRED, on, 4),
        "setsockopt(SO_PASSCRED)",
        name,
      );
    }
    let r = libc().bind(fd, addr, len);
    let e = r === -1 ? ERRNO[0] : 0;
    if (
      r === -1 && e === E().EADDRINUSE && !abstract && (options.replaceStale ?? true) &&
      isStale(path, addr, len, type)
    ) {
      libc().unlink(cstr(path));
      r = libc().bind(fd, addr, len);
      e = r === -1 ? ERRNO[0] : 0;
    }
    if (r === -1) {
      throw ipcError({
        errno: e,
        syscall: "bind",
        object: name,
        kind: "directory",
        hint: e === E().EADDRINUSE
          ? (abstract
            ? "another socket holds this abstract name"
            : "a live server is listening there, or the path exists and is not a stale socket of yours")
          : undefined,
      });
    }
    if (!abstract) sys(() => libc().chmod(cstr(path), mode), "chmod", name);
    return fd;
  } catch (e) {
    closeQuietly(fd);
    throw e;
  }
}

/**
 * A listening stream or seqpacket socket. Disposing closes it and removes
 * its socket file.
 *
 * @example
 * ```ts
 * import { connectUnix, listenUnix } from "@ipckit/ipckit";
 * using server = listenUnix("ipckit-doc-listener", { abstract: true });
 * using client = await connectUnix("ipckit-doc-listener", { abstract: true });
 * using conn = await server.accept({ timeout: 1000 });
 * await client.writeAll(new TextEncoder().encode("hi"));
 * console.log(conn.peerCredentials().uid === client.peerCredentials().uid); // true
 * ```
 */
export class UnixListener extends FdHandle {
  /** The path (or `@name` for abstract) listened on. */
  readonly address: string;
  /** `"stream"` or `"seqpacket"`. */
  readonly type: SocketType;
  readonly #unlinkPath: string | null;

  /** @internal Use {@linkcode listenUnix}. */
  constructor(fd: number, address: string, type: SocketType, unlinkPath: string | null) {
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
    return this.tryAccept() ??
      await untilReady(
        this.fd,
        "read",
        () => this.tryAccept(),
        new Deadline(options, "accept4", this.name),
      );
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

  /** Closes the socket and removes its file (if `unlinkOnClose`). Idempotent. */
  override close(): void {
    if (this.closed) return;
    super.close();
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
 * using server = listenUnix("ipckit-doc-demo", { abstract: true, type: "seqpacket" });
 * console.log(server.address); // @ipckit-doc-demo
 * ```
 * @throws {IpcError} ENAMETOOLONG for a path over 107 UTF-8 bytes;
 * EADDRINUSE when the address is taken; EACCES/ENOENT for the directory.
 */
export function listenUnix(path: string, options: ListenOptions = {}): UnixListener {
  const name = display(path, options.abstract);
  const typeNum = typeNumber(options.type, "listen", name);
  if (typeNum === socket().SOCK_DGRAM) {
    throw invalidArgument("listen", name, "datagram sockets do not listen: use bindUnix()");
  }
  const backlog = checkCount(options.backlog ?? 128, "backlog", "listen", name, socket().SOMAXCONN);
  const fd = bound(path, options, typeNum, "bind");
  const unlinkPath = !options.abstract && (options.unlinkOnClose ?? true) ? path : null;
  const r = libc().listen(fd, backlog);
  if (r === -1) {
    const err = ipcError({ errno: ERRNO[0], syscall: "listen", object: name });
    closeQuietly(fd);
    if (unlinkPath) libc().unlink(cstr(unlinkPath));
    throw err;
  }
  return new UnixListener(fd, name, typeName(typeNum), unlinkPath);
}

/** A bound datagram socket that removes its file on close. */
class BoundSocket extends UnixSocket {
  readonly #unlinkPath: string | null;
  constructor(fd: number, name: string, unlinkPath: string | null) {
    super(fd, { name, type: "dgram" });
    this.#unlinkPath = unlinkPath;
  }
  override close(): void {
    if (this.closed) return;
    super.close();
    if (this.#unlinkPath !== null) libc().unlink(cstr(this.#unlinkPath));
  }
}

/**
 * Binds a datagram socket at `path` (mode 0600) to receive messages sent to
 * it; disposing closes it and removes its file.
 *
 * @example
 * ```ts
 * import { bindUnix, connectUnix } from "@ipckit/ipckit";
 * using inbox = bindUnix("ipckit-doc-inbox", { abstract: true });
 * using out = await connectUnix("ipckit-doc-inbox", { abstract: true, type: "dgram" });
 * await out.send(new TextEncoder().encode("one datagram"));
 * console.log((await inbox.receive({ timeout: 1000 })).data.length); // 12
 * ```
 * @throws {IpcError} ENAMETOOLONG, EADDRINUSE, as for {@linkcode listenUnix}.
 */
export function bindUnix(path: string, options: Omit<ListenOptions, "backlog"> = {}): UnixSocket {
  const name = display(path, options.abstract);
  const typeNum = typeNumber(options.type ?? "dgram", "bind", name);
  if (typeNum !== socket().SOCK_DGRAM) {
    throw invalidArgument("bind", name, "bindUnix() is for datagram sockets: use listenUnix()");
  }
  const fd = bound(path, options, typeNum, "bind");
  const unlinkPath = !options.abstract && (options.unlinkOnClose ?? true) ? path : null;
  return new BoundSocket(fd, name, unlinkPath);
}

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
      if (libc().connect(fd, addr, len) === 0) return true;
      const e = ERRNO[0];
      if (e === E().EAGAIN) return null;
      if (e === E().EINPROGRESS || e === E().EINTR) {
        pending = true;
        return true;
      }
      throw connectError(e, name);
    };
    if (attempt() === null) await untilAcquired({ attempt }, deadline);
    if (pending) {
      await waitFd(fd, "write", deadline);
      const so = new Int32Array(1);
      const sl = new Uint32Array([4]);
      sysOnce(
        () => libc().getsockopt(fd, socket().SOL_SOCKET, socket().SO_ERROR, so, sl),
        "getsockopt(SO_ERROR)",
        name,
      );
      if (so[0] !== 0) throw connectError(so[0], name);
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
    hint: e === E().ECONNREFUSED
      ? "nothing is listening there (a stale socket file?)"
      : e === E().ENOENT
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
 * console.log((await b.receive()).data); // Uint8Array(3) [ 1, 2, 3 ]
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
