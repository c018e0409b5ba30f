/**
 * What a `UnixSocket` receives, {@linkcode SocketMessage} (the
 * shared `Message` with the socket's metadata) and
 * {@linkcode SocketReceivedInto}, and the options of sending and receiving.
 *
 * @module
 */
import { objectOf } from "./_validate.ts";
import type { FdHandle } from "./fd.ts";
import { invalidArgument } from "./_errors.ts";
import { Message } from "./message.ts";
import type { WaitOptions } from "./wait.ts";
import type { Credentials } from "./_sockopt.ts";
import type { FdLike } from "./_msghdr.ts";

/** Options for `UnixSocket.send()`. */
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

/** Options for `UnixSocket.receive()`. */
export interface ReceiveOptions extends WaitOptions {
  /**
   * Largest message (dgram, seqpacket) or chunk (stream) to accept, in
   * bytes; default 65536. A longer message is discarded and reported as
   * EMSGSIZE, never silently truncated (unless `truncate`).
   */
  messageSize?: number;
  /**
   * Keep the first `messageSize` bytes of a longer message (the rest is
   * lost, as with C's `recv`) and mark it `truncated`, instead of throwing
   * EMSGSIZE. Default `false`.
   */
  truncate?: boolean;
  /**
   * Most descriptors to accept with this message; default 0. If the peer
   * sends more, every descriptor that arrived is closed and EMSGSIZE is
   * thrown.
   */
  maxFds?: number;
}

/**
 * One received message (or, for stream sockets, one chunk of the stream):
 * the shared {@linkcode Message} (`bytes`, `text()`) with the descriptors
 * and credentials that came with it.
 *
 * @example
 * ```ts
 * import { createSocketPair, SocketMessage } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair("seqpacket");
 * await a.send(new TextEncoder().encode("hi"));
 * const m = await b.receive({ timeout: 1000 });
 * console.log(m instanceof SocketMessage, m.text(), m.fds.length); // true hi 0
 * a.close();
 * b.close();
 * ```
 */
export class SocketMessage extends Message {
  /** Descriptors that came with it; the caller owns and must close them. */
  readonly fds: FdHandle[];
  /** Sender's credentials, if `passCredentials` is on for the receiving socket. */
  readonly credentials?: Credentials;
  /**
   * `true` when the peer has closed (or shut down writing on) a stream or
   * seqpacket connection; `bytes` is then empty. An empty seqpacket message
   * cannot be told apart from the end, as in C.
   */
  readonly end: boolean;
  /** The message was longer than `messageSize` and only its start is here (`truncate: true`). */
  readonly truncated: boolean;
  /**
   * Datagram sockets: the sender's address, a path, `@name` (abstract), or
   * `null` when the sender is not bound (a socket pair, an unbound client).
   */
  readonly address?: string | null;

  /** @internal Made by `UnixSocket.receive()`. */
  constructor(
    bytes: Uint8Array<ArrayBuffer>,
    meta: {
      fds: FdHandle[];
      credentials?: Credentials;
      end: boolean;
      truncated: boolean;
      address?: string | null;
    },
  ) {
    if (meta === null || typeof meta !== "object" || !Array.isArray(meta.fds)) {
      throw invalidArgument("SocketMessage", objectOf(meta), "made by UnixSocket.receive()");
    }
    super(bytes);
    this.fds = meta.fds;
    if (meta.credentials) this.credentials = meta.credentials;
    this.end = meta.end;
    this.truncated = meta.truncated;
    if (meta.address !== undefined) this.address = meta.address;
  }
}

/** Options for `UnixSocket.receiveInto()`: the buffer's length is the message size. */
export type ReceiveIntoOptions = Omit<ReceiveOptions, "messageSize">;

/** What `UnixSocket.receiveInto()` reports: the length received and the metadata. */
export interface SocketReceivedInto {
  /** Bytes received into the buffer. */
  length: number;
  /** Descriptors that came with it; the caller owns and must close them. */
  fds: FdHandle[];
  /** Sender's credentials, if `passCredentials` is on. */
  credentials?: Credentials;
  /** The peer closed the connection (stream, seqpacket). */
  end: boolean;
  /** Only the start of a longer message was kept (`truncate: true`). */
  truncated: boolean;
  /** Datagram sockets: the sender's address, or `null` if unbound. */
  address?: string | null;
}
