/**
 * What `UnixSocket` checks before a syscall: data and buffers (including
 * buffers detached or resized while a call waited), receive sizes, datagram
 * destinations; and the names of the socket's own calls (`getsockname`,
 * `shutdown`). Kept apart so `_socket.ts` reads as the socket's behaviour.
 *
 * @module
 */
import { MAX_IO, optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { socket, socketLayout } from "../ffi/socket.ts";
import { invalidArgument, sysOnce } from "./_errors.ts";
import {
  type AddressOptions,
  checkCount,
  decodeAddress,
  resolveAddress,
  type ResolvedAddress,
} from "./_address.ts";
import { type FdLike, fdNumbers, type RawMessage } from "./_msghdr.ts";
import type { ReceiveIntoOptions, ReceiveOptions, SocketReceivedInto } from "./_socket_message.ts";

/** Default `ReceiveOptions.messageSize`. */
const DEFAULT_MESSAGE_SIZE = 65536;

/** EINVAL unless `data` is a `Uint8Array` (checked before any syscall). */
export function checkData(data: unknown, syscall: string, name: string): void {
  if (!(data instanceof Uint8Array)) {
    throw invalidArgument(syscall, name, "data must be a Uint8Array");
  }
}

/** EINVAL for a caller buffer detached or resized while the call was waiting. */
export function changedBuffer(name: string): never {
  throw invalidArgument(
    "recvmsg",
    name,
    "the buffer was detached or resized while the call was waiting; nothing was received",
  );
}

/** `receive()`'s options: a fresh buffer of `messageSize`, `maxFds`, `truncate`. */
export function receiveArgs(
  name: string,
  options: ReceiveOptions,
): [Uint8Array<ArrayBuffer>, number, boolean] {
  optionsObject(options, "recvmsg", name);
  const size = checkCount(
    options.messageSize ?? DEFAULT_MESSAGE_SIZE,
    "messageSize",
    "recvmsg",
    name,
    MAX_IO,
  );
  const maxFds = checkCount(options.maxFds ?? 0, "maxFds", "recvmsg", name, 253);
  return [new Uint8Array(size), maxFds, options.truncate ?? false];
}

/**
 * `receiveInto()`'s buffer and options: a Uint8Array, not detached, not
 * empty on a message socket (a message would be dequeued into nothing).
 */
export function intoArgs(
  name: string,
  messageSocket: boolean,
  buffer: unknown,
  options: ReceiveIntoOptions,
): [Uint8Array, number, boolean] {
  if (!(buffer instanceof Uint8Array)) {
    throw invalidArgument("recvmsg", name, "buffer must be a Uint8Array");
  }
  if ((buffer.buffer as ArrayBuffer).detached) {
    throw invalidArgument("recvmsg", name, "the buffer is detached");
  }
  if (buffer.byteLength === 0 && messageSocket) {
    throw invalidArgument(
      "recvmsg",
      name,
      "a zero-length buffer cannot take a message (it would be discarded)",
    );
  }
  optionsObject(options, "recvmsg", name);
  const maxFds = checkCount(options.maxFds ?? 0, "maxFds", "recvmsg", name, 253);
  return [
    buffer.byteLength > MAX_IO ? buffer.subarray(0, MAX_IO) : buffer,
    maxFds,
    options.truncate ?? false,
  ];
}

/** `sendTo()`'s arguments: data, a datagram socket, the address and descriptors. */
export function sendToArgs(
  name: string,
  type: string,
  address: unknown,
  data: unknown,
  options: AddressOptions & { fds?: readonly FdLike[] },
): { to: ResolvedAddress; fds: number[] } {
  checkData(data, "sendmsg", name);
  if (type !== "dgram") {
    throw invalidArgument("sendmsg", name, "sendTo() is for datagram sockets");
  }
  const to = resolveAddress(address, options, "sendmsg");
  const fds = fdNumbers(options.fds ?? [], "sendmsg", to.name);
  return { to, fds };
}

/** What `receiveInto()` reports for one `recvmsg`. */
export function receivedInto(raw: RawMessage, dgram: boolean): SocketReceivedInto {
  const end = raw.length === 0 && raw.fds.length === 0 && !dgram;
  const got: SocketReceivedInto = {
    length: raw.length,
    fds: raw.fds,
    end,
    truncated: raw.truncated,
  };
  if (raw.credentials) got.credentials = raw.credentials;
  if (dgram) got.address = raw.address ?? null;
  return got;
}

/** `getsockname`/`getpeername`: a path, `@name`, or `null`. */
export function socketAddress(
  fd: number,
  call: "getsockname" | "getpeername",
  name: string,
): string | null {
  const addr = new Uint8Array(socketLayout().sockaddr_un.size);
  const len = new Uint32Array([addr.byteLength]);
  sysOnce(() => libc()[call](fd, addr, len), call, name);
  return decodeAddress(addr, Math.min(len[0], addr.byteLength));
}

/** The `SHUT_*` number for `how`; EINVAL otherwise. */
export function shutdownHow(how: unknown, name: string): number {
  const C = socket();
  const n = how === "read"
    ? C.SHUT_RD
    : how === "write"
    ? C.SHUT_WR
    : how === "both"
    ? C.SHUT_RDWR
    : -1;
  if (n < 0) throw invalidArgument("shutdown", name, `how must be read, write or both`);
  return n;
}
