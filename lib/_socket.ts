/**
 * {@linkcode UnixSocket}, a connected (or bound datagram) Unix socket, and
 * {@linkcode SocketMessage}, what it receives.
 *
 * @module
 */
import { describe, MAX_IO, objectOf, optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { socket } from "../ffi/socket.ts";
import { invalidArgument, IpcError, ipcError, sysOnce, trySys } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import {
  type ReceiveIntoOptions,
  type ReceiveOptions,
  type SendOptions,
  SocketMessage,
  type SocketReceivedInto,
} from "./_socket_message.ts";
import { Deadline, spinnerFor, untilReady } from "./wait.ts";
import {
  type AddressOptions,
  checkCount,
  connectError,
  resolveAddress,
  type SocketType,
  typeName,
  typeNumber,
} from "./_address.ts";
import {
  type Credentials,
  getIntOption,
  type IntOption,
  peerCredentials,
  setIntOption,
} from "./_sockopt.ts";
import { fdNumbers, tryReceiveMessage, trySendMessage } from "./_msghdr.ts";
import {
  changedBuffer,
  checkData,
  intoArgs,
  receiveArgs,
  receivedInto,
  sendToArgs,
  shutdownHow,
  socketAddress,
} from "./_socket_args.ts";

/** Options for {@linkcode UnixSocket.sendTo}: the send options plus how to read the address. */
export interface SendToOptions extends SendOptions, AddressOptions {}

/** Options for wrapping a descriptor in a {@linkcode UnixSocket}. */
export interface UnixSocketOptions {
  /** Name shown in errors. */
  name?: string;
  /** The socket's type; read from the descriptor (`SO_TYPE`) when omitted. */
  type?: SocketType;
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
    optionsObject(options, "socket", objectOf(fd));
    if (options.name !== undefined && typeof options.name !== "string") {
      throw invalidArgument(
        "socket",
        objectOf(fd),
        `name must be a string, got ${describe(options.name)}`,
      );
    }
    super(fd, { name: options.name ?? `socket ${objectOf(fd)}` });
    if (options.type !== undefined) {
      typeNumber(options.type, "socket", this.name);
      this.type = options.type;
    } else {
      try {
        this.type = typeName(getIntOption(fd, "SO_TYPE", this.name));
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
    // Check first, so a non-socket stays owned by `handle`.
    const type = typeName(getIntOption(handle.fd, "SO_TYPE", handle.name));
    return new UnixSocket(handle.release(), { name: handle.name, type });
  }

  #get(option: IntOption): number {
    return getIntOption(this.fd, option, this.name);
  }

  #set(option: IntOption, value: number): void {
    setIntOption(this.fd, option, value, this.name);
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
    if (!(buffer instanceof Uint8Array)) {
      throw invalidArgument("recv", this.name, "buffer must be a Uint8Array");
    }
    const fd = this.fd;
    const len = Math.min(buffer.byteLength, MAX_IO);
    const flags = this.#message ? socket().MSG_TRUNC : 0;
    const n = trySys(() => libc().recv(fd, buffer, BigInt(len), flags), "recv", this.name);
    if (n !== null && n > len) {
      throw ipcError({
        code: "EMSGSIZE",
        syscall: "recv",
        object: this.name,
        detail: `a ${n}-byte message did not fit in ${len} bytes and was discarded`,
      });
    }
    return n;
  }

  /**
   * Sends what fits now (`send` with `MSG_NOSIGNAL`): the byte count, or
   * `null` if the socket buffer is full. A closed peer gives EPIPE, never
   * SIGPIPE.
   */
  override tryWrite(data: Uint8Array): number | null {
    checkData(data, "send", this.name);
    const fd = this.fd;
    const len = Math.min(data.byteLength, MAX_IO);
    const flags = socket().MSG_NOSIGNAL;
    return trySys(() => libc().send(fd, data, BigInt(len), flags), "send", this.name);
  }

  /**
   * One non-blocking `sendmsg`: the bytes sent (what {@linkcode send}
   * resolves to), or `null` if there is no room now. On a stream socket
   * fewer bytes than given may be sent (the descriptors, if any, went with
   * them); a message socket sends the whole message or nothing.
   *
   * @throws {IpcError} EPIPE if the peer closed; EMSGSIZE for a datagram
   * larger than the send buffer; EBADF for a bad descriptor in `fds`.
   */
  trySend(data: Uint8Array, options: Omit<SendOptions, "signal" | "timeout"> = {}): number | null {
    checkData(data, "sendmsg", this.name);
    optionsObject(options, "sendmsg", this.name);
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
   * the first part. Resolves to the bytes sent: all of `data`.
   *
   * @throws {IpcError} EPIPE if the peer closed; EMSGSIZE for a message
   * larger than the send buffer; ETIMEDOUT on timeout.
   */
  async send(data: Uint8Array, options: SendOptions = {}): Promise<number> {
    checkData(data, "sendmsg", this.name);
    optionsObject(options, "sendmsg", this.name);
    const fds = fdNumbers(options.fds ?? [], "sendmsg", this.name);
    const extra = { fds, credentials: options.credentials };
    const deadline = new Deadline(options, "sendmsg", this.name);
    let sent = this.trySend(data, extra);
    if (sent === null) {
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
      return data.byteLength;
    }
    return sent;
  }

  /**
   * Sends one datagram to `address` (a path or `@name`) if there is room
   * now: the bytes sent, or `null` if the receiver's queue is full. The
   * socket needs no connection; bind it (`bindUnix`, or `connectUnix`'s
   * `bind`) if the receiver should be able to answer.
   *
   * @throws {IpcError} ECONNREFUSED/ENOENT when nothing is bound there;
   * EMSGSIZE for a datagram larger than the send buffer.
   */
  trySendTo(
    address: string,
    data: Uint8Array,
    options: Omit<SendToOptions, "signal" | "timeout"> = {},
  ): number | null {
    const { to, fds } = sendToArgs(this.name, this.type, address, data, options);
    return trySendMessage(this.fd, to.name, data, fds, options.credentials, to);
  }

  /**
   * Sends one datagram to `address` (a path or `@name`), waiting for room
   * in the receiver's queue; resolves to the bytes sent. Descriptors and
   * credentials go along as with {@linkcode send}.
   *
   * @example A reply to whoever asked
   * ```ts
   * import { bindUnix, connectUnix } from "@ipckit/ipckit";
   * using server = bindUnix("@ipckit-doc-sendto");
   * using client = await connectUnix("@ipckit-doc-sendto", { type: "dgram", bind: true });
   * await client.send(new TextEncoder().encode("ping"));
   * const req = await server.receive({ timeout: 1000 });
   * await server.sendTo(req.address!, new TextEncoder().encode("pong"));
   * console.log((await client.receive({ timeout: 1000 })).text()); // pong
   * ```
   * @throws {IpcError} as {@linkcode trySendTo}; ETIMEDOUT.
   */
  async sendTo(address: string, data: Uint8Array, options: SendToOptions = {}): Promise<number> {
    const { to, fds } = sendToArgs(this.name, this.type, address, data, options);
    const deadline = new Deadline(options, "sendmsg", to.name);
    const attempt = () => trySendMessage(this.fd, to.name, data, fds, options.credentials, to);
    return attempt() ??
      await untilReady(this.fd, "write", attempt, deadline, spinnerFor(this));
  }

  /**
   * Connects a datagram socket (typically one from {@linkcode bindUnix}) to
   * `address`: `send()` then goes there, and only datagrams from there are
   * received. Immediate: a datagram connect does not wait.
   *
   * @throws {IpcError} ECONNREFUSED/ENOENT when nothing is bound there;
   * EINVAL on a stream or seqpacket socket.
   */
  connect(address: string, options: AddressOptions = {}): void {
    if (this.type !== "dgram") {
      throw invalidArgument("connect", this.name, "connect() is for datagram sockets");
    }
    const to = resolveAddress(address, options, "connect");
    const fd = this.fd;
    try {
      sysOnce(() => libc().connect(fd, to.addr, to.len), "connect", to.name);
    } catch (e) {
      if (!(e instanceof IpcError)) throw e;
      throw connectError(e.errno, to.name, to.abstract);
    }
  }

  /**
   * Receives one message (or stream chunk) if one is there now, with any
   * descriptors and credentials; `null` if nothing is ready.
   *
   * @throws {IpcError} EMSGSIZE when the message or its descriptors did not
   * fit (`messageSize`, `maxFds`); every descriptor that arrived is closed.
   */
  tryReceive(options: Omit<ReceiveOptions, "signal" | "timeout"> = {}): SocketMessage | null {
    const [buffer, maxFds, truncate] = receiveArgs(this.name, options);
    return this.#tryReceive(buffer, maxFds, truncate);
  }

  #tryReceiveInto(
    buffer: Uint8Array,
    maxFds: number,
    truncate: boolean,
  ): SocketReceivedInto | null {
    const dgram = this.type === "dgram";
    const raw = tryReceiveMessage(
      this.fd,
      this.name,
      buffer,
      maxFds,
      this.#message,
      truncate,
      dgram,
    );
    return raw === null ? null : receivedInto(raw, dgram);
  }

  #tryReceive(
    buffer: Uint8Array<ArrayBuffer>,
    maxFds: number,
    truncate: boolean,
  ): SocketMessage | null {
    const got = this.#tryReceiveInto(buffer, maxFds, truncate);
    if (got === null) return null;
    const bytes = got.length * 2 >= buffer.byteLength
      ? buffer.subarray(0, got.length)
      : buffer.slice(0, got.length);
    return new SocketMessage(bytes, got);
  }

  /**
   * Receives one message (or stream chunk) into `buffer` if one is there
   * now, without allocating for the payload: `{ length, ...metadata }`, or
   * `null` if nothing is ready. `buffer.length` plays the part of
   * `messageSize`.
   *
   * @example
   * ```ts
   * import { createSocketPair } from "@ipckit/ipckit";
   * const [a, b] = createSocketPair("dgram");
   * a.trySend(new Uint8Array([7, 8]));
   * const buf = new Uint8Array(16);
   * console.log(b.tryReceiveInto(buf)?.length); // 2
   * a.close();
   * b.close();
   * ```
   * @throws {IpcError} EMSGSIZE as for {@linkcode tryReceive}.
   */
  tryReceiveInto(
    buffer: Uint8Array,
    options: Omit<ReceiveIntoOptions, "signal" | "timeout"> = {},
  ): SocketReceivedInto | null {
    const [target, maxFds, truncate] = intoArgs(this.name, this.#message, buffer, options);
    return this.#tryReceiveInto(target, maxFds, truncate);
  }

  /**
   * Waits for one message (or stream chunk) and receives it into `buffer`:
   * `{ length, ...metadata }`. `buffer.length` plays the part of
   * `messageSize`.
   *
   * @throws {IpcError} EMSGSIZE as for {@linkcode receive}; ETIMEDOUT.
   */
  async receiveInto(
    buffer: Uint8Array,
    options: ReceiveIntoOptions = {},
  ): Promise<SocketReceivedInto> {
    const [target, maxFds, truncate] = intoArgs(this.name, this.#message, buffer, options);
    const deadline = new Deadline(options, "recvmsg", this.name);
    const want = target.byteLength;
    return this.#tryReceiveInto(target, maxFds, truncate) ??
      await untilReady(
        this.fd,
        "read",
        // Checked before every attempt: a detached or shrunk buffer would make the
        // kernel dequeue the message into nothing (lost, or EFAULT).
        () =>
          target.byteLength === want
            ? this.#tryReceiveInto(target, maxFds, truncate)
            : changedBuffer(this.name),
        deadline,
        spinnerFor(this),
      );
  }

  /**
   * Waits for one message (or stream chunk), with any descriptors (up to
   * `maxFds`) and the sender's credentials (with `passCredentials` on).
   * At the end of a connection it resolves with `end: true`.
   *
   * @throws {IpcError} EMSGSIZE when the message or its descriptors did not
   * fit; ETIMEDOUT on timeout.
   */
  async receive(options: ReceiveOptions = {}): Promise<SocketMessage> {
    const [buffer, maxFds, truncate] = receiveArgs(this.name, options);
    const deadline = new Deadline(options, "recvmsg", this.name);
    return this.#tryReceive(buffer, maxFds, truncate) ??
      await untilReady(
        this.fd,
        "read",
        () => this.#tryReceive(buffer, maxFds, truncate),
        deadline,
        spinnerFor(this),
      );
  }

  /**
   * Yields each message received (dgram, seqpacket; stream chunks on a
   * stream socket) until the peer closes the connection, or the socket is
   * closed. An aborted `signal` rejects with its reason.
   *
   * @example
   * ```ts
   * import { createSocketPair } from "@ipckit/ipckit";
   * const [a, b] = createSocketPair("seqpacket");
   * await a.send(new TextEncoder().encode("one"));
   * await a.send(new TextEncoder().encode("two"));
   * a.close();
   * for await (const m of b.messages()) console.log(m.text()); // one, two
   * b.close();
   * ```
   */
  async *messages(
    options: Omit<ReceiveOptions, "timeout"> = {},
  ): AsyncGenerator<SocketMessage, void, undefined> {
    const receiveOptions: ReceiveOptions = { ...optionsObject(options, "recvmsg", this.name) };
    receiveArgs(this.name, receiveOptions);
    for (;;) {
      let msg: SocketMessage;
      try {
        msg = await this.receive(receiveOptions);
      } catch (e) {
        if (this.closed) return;
        throw e;
      }
      if (msg.end) return;
      yield msg;
    }
  }

  /**
   * The connected peer's pid, uid and gid (`SO_PEERCRED`), as the kernel
   * recorded them at connect time: the identity to authenticate with.
   *
   * @throws {IpcError} ENOTCONN on an unconnected datagram socket.
   */
  peerCredentials(): Credentials {
    return peerCredentials(this.fd, this.name);
  }

  /**
   * `SO_PASSCRED`: when on, every received message carries the sender's
   * credentials. Messages queued before it was turned on report pid 0: use
   * the `passCredentials` option of {@linkcode bindUnix} to have it from the
   * start.
   */
  get passCredentials(): boolean {
    return this.#get("SO_PASSCRED") !== 0;
  }
  set passCredentials(on: boolean) {
    this.#set("SO_PASSCRED", on ? 1 : 0);
  }

  /** `SO_SNDBUF` in bytes (the kernel reports double what was set, for bookkeeping). */
  get sendBufferSize(): number {
    return this.#get("SO_SNDBUF");
  }
  set sendBufferSize(bytes: number) {
    checkCount(bytes, "sendBufferSize", "setsockopt(SO_SNDBUF)", this.name, 0x3fffffff);
    this.#set("SO_SNDBUF", bytes);
  }

  /** `SO_RCVBUF` in bytes (the kernel reports double what was set). */
  get receiveBufferSize(): number {
    return this.#get("SO_RCVBUF");
  }
  set receiveBufferSize(bytes: number) {
    checkCount(bytes, "receiveBufferSize", "setsockopt(SO_RCVBUF)", this.name, 0x3fffffff);
    this.#set("SO_RCVBUF", bytes);
  }

  /** The address this socket is bound to: a path, `@name` (abstract), or `null`. */
  get localAddress(): string | null {
    return socketAddress(this.fd, "getsockname", this.name);
  }

  /** The connected peer's address: a path, `@name` (abstract), or `null` if unnamed. */
  get peerAddress(): string | null {
    return socketAddress(this.fd, "getpeername", this.name);
  }

  /**
   * `shutdown()`: stop sending (`"write"`, the default: the peer reads end
   * of stream), receiving (`"read"`), or both. The descriptor stays open.
   */
  shutdown(how: "read" | "write" | "both" = "write"): void {
    const n = shutdownHow(how, this.name);
    const fd = this.fd;
    sysOnce(() => libc().shutdown(fd, n), "shutdown", this.name);
  }
}
