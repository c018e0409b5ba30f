/**
 * Unix socket addresses and types: `sockaddr_un` encoding and decoding,
 * abstract names, and the three socket types by name.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { socket, socketLayout } from "../ffi/socket.ts";
import { off } from "../ffi/struct.ts";
import { invalidArgument, ipcError, sys } from "./_errors.ts";

/** The three Unix socket types. */
export type SocketType = "stream" | "dgram" | "seqpacket";

/** Longest `sun_path` content in bytes: 108 minus the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Where a socket lives. */
export interface AddressOptions {
  /**
   * Treat the name as an abstract-namespace address (Linux): no file is
   * created and no file permissions apply; any process in the network
   * namespace can connect, so check the peer's credentials.
   */
  abstract?: boolean;
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
    `type must be "stream", "dgram" or "seqpacket", got ${JSON.stringify(type)}`,
  );
}

/** The type name for a `SOCK_*` number. */
export function typeName(n: number): SocketType {
  const C = socket();
  return n === C.SOCK_DGRAM ? "dgram" : n === C.SOCK_SEQPACKET ? "seqpacket" : "stream";
}

/** How a name is shown in errors and `name`: abstract names start with `@`. */
export function display(path: string, abstract: boolean | undefined): string {
  return abstract ? `@${path}` : path;
}

/**
 * Encodes a `sockaddr_un`, refusing (never truncating) names longer than
 * `sun_path`: at most 107 UTF-8 bytes, for abstract names 107 after the
 * leading NUL.
 */
export function encodeAddress(
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
export function decodeAddress(addr: Uint8Array, len: number): string | null {
  const at = off(socketLayout().sockaddr_un, "sun_path");
  if (len <= at) return null;
  if (addr[at] === 0) return "@" + decoder.decode(addr.subarray(at + 1, len));
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
      `${what} must be an integer between 0 and ${max}, got ${String(value)}`,
    );
  }
  return value;
}
