/**
 * Unix socket addresses and types: `sockaddr_un` encoding and decoding,
 * abstract names, and the three socket types by name.
 *
 * @module
 */
import { describe, objectOf, optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { socket, socketLayout } from "../ffi/socket.ts";
import { off } from "../ffi/struct.ts";
import { invalidArgument, type IpcError, ipcError, sys } from "./_errors.ts";
import { errnoName } from "../ffi/errno.ts";

/** The three Unix socket types. */
export type SocketType = "stream" | "dgram" | "seqpacket";

/** Longest `sun_path` content in bytes: 108 minus the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Where a socket lives. An address is a path, or `@name` for a name in the
 * abstract namespace (Linux), the form ipckit prints and systemd, socat and
 * `ss` write. A file whose name starts with `@` is written `./@name`.
 */
export interface AddressOptions {
  /**
   * Treat the name as an abstract-namespace address even without the
   * leading `@` (a leading `@` is then still dropped, so `"@x"` and `"x"`
   * name the same socket). Abstract sockets have no file and no
   * permissions: any process in the network namespace can connect, so
   * check the peer's credentials.
   */
  abstract?: boolean;
  /**
   * Pad an abstract name with NULs to the whole `sun_path` (108 bytes), as
   * libuv, and so Node's `net` module, does. Node's abstract servers and
   * clients use such names: set this to reach them, or to be reached by
   * them. Default `false` (the name's own length, as systemd, socat and C
   * programs use).
   */
  padAbstract?: boolean;
}

/** An address resolved from what the caller wrote. */
export interface ResolvedAddress {
  /** The name as shown in errors and `address`: a path or `@name`. */
  name: string;
  /** Abstract namespace. */
  abstract: boolean;
  /** The path (file) or the abstract name without `@`. */
  path: string;
  /** The encoded `sockaddr_un` and its length. */
  addr: Uint8Array<ArrayBuffer>;
  len: number;
}

/**
 * Reads an address the way every call that takes one does: `@name` is
 * abstract, so is anything with `abstract: true`; otherwise a path.
 */
export function resolveAddress(
  address: unknown,
  options: AddressOptions | undefined,
  syscall: string,
): ResolvedAddress {
  if (typeof address !== "string") {
    throw invalidArgument(
      syscall,
      objectOf(address),
      `socket address must be a string, got ${describe(address)}`,
    );
  }
  optionsObject(options, syscall, address);

  const at = address.startsWith("@");
  const abstract = at || (options?.abstract ?? false);
  const path = at ? address.slice(1) : address;
  const name = display(path, abstract);
  const { addr, len } = encodeAddress(path, abstract, syscall, options?.padAbstract);
  return { name, abstract, path, addr, len };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The `SOCK_*` number for a type name (default `"stream"`); EINVAL otherwise. */
export function typeNumber(type: unknown, syscall: string, object?: string): number {
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
    `type must be "stream", "dgram" or "seqpacket", got ${describe(type)}`,
  );
}

/** The type name for a `SOCK_*` number. */
export function typeName(n: number): SocketType {
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
  pad = false,
): { addr: Uint8Array<ArrayBuffer>; len: number } {
  if (typeof path !== "string" || (path.length === 0 && !abstract)) {
    throw invalidArgument(
      syscall,
      objectOf(path),
      `socket path must be a non-empty string, got ${describe(path)}`,
    );
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
    // libuv binds and connects with the whole structure: the name is NUL-padded.
    return { addr, len: pad ? L.size : at + 1 + bytes.length };
  }
  addr.set(bytes, at);
  return { addr, len: at + bytes.length + 1 };
}

/** Decodes a `sockaddr_un` of `len` bytes: a path, `@name` for abstract, `null` if unnamed. */
export function decodeAddress(addr: Uint8Array, len: number): string | null {
  const at = off(socketLayout().sockaddr_un, "sun_path");
  if (len <= at) return null;
  if (addr[at] === 0) {
    // A libuv (Node) name is padded with NULs to the whole sun_path: show it without them.
    let end = len;
    while (end > at + 1 && addr[end - 1] === 0) end--;
    return "@" + decoder.decode(addr.subarray(at + 1, end));
  }
  const end = addr.subarray(at, len).indexOf(0);
  return decoder.decode(addr.subarray(at, end < 0 ? len : at + end));
}

/** A new non-blocking, close-on-exec `AF_UNIX` socket of `SOCK_*` type `type`. */
export function openSocket(type: number, name: string): number {
  const C = socket();
  return sys(
    () => libc().socket(C.AF_UNIX, type | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0),
    "socket",
    name,
  );
}

/** Checks an integer count option in `0..max`, EINVAL otherwise. */
export function checkCount(
  value: unknown,
  what: string,
  syscall: string,
  object: string | undefined,
  max: number,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    throw invalidArgument(
      syscall,
      object,
      `${what} must be an integer between 0 and ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

/** A connect error with a hint that fits the kind of address. */
export function connectError(e: number, name: string, abstract: boolean): IpcError {
  const code = errnoName(e);
  return ipcError({
    errno: e,
    syscall: "connect",
    object: name,
    kind: "socket",
    hint: code === "ECONNREFUSED"
      ? abstract
        ? "nothing is bound to that abstract name (a Node/libuv peer pads its names: " +
          "try padAbstract)"
        : "nothing is listening there (a stale socket file?)"
      : code === "ENOENT"
      ? "no socket at that path: is the server running?"
      : code === "EPROTOTYPE"
      ? "the socket there is of another type (stream, dgram, seqpacket)"
      : undefined,
  });
}
