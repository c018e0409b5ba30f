/**
 * Socket options, declared once in a table (as nix does): each option's
 * level, name and value kind, read and written through one pair of
 * functions, so a new option is one line here.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { socket, socketLayout } from "../ffi/socket.ts";
import { getField } from "../ffi/struct.ts";
import { sysOnce } from "./_errors.ts";

/** Who sent a message, or who is connected: process id, user id, group id. */
export interface Credentials {
  /** Process id. */
  pid: number;
  /** User id. */
  uid: number;
  /** Group id. */
  gid: number;
}

/** The integer and boolean options (`SOL_SOCKET`) ipckit reads or sets. */
const INT_OPTIONS = {
  SO_TYPE: "int",
  SO_ERROR: "int",
  SO_SNDBUF: "int",
  SO_RCVBUF: "int",
  SO_PASSCRED: "bool",
  SO_ACCEPTCONN: "bool",
  SO_DOMAIN: "int",
} as const;

/** A socket option that holds an `int`. */
export type IntOption = keyof typeof INT_OPTIONS;

/** `getsockopt(SOL_SOCKET, option)` for an `int` option (booleans as 0/1). */
export function getIntOption(fd: number, option: IntOption, name: string): number {
  const C = socket();
  const buf = new Int32Array(1);
  const len = new Uint32Array([4]);
  sysOnce(
    () => libc().getsockopt(fd, C.SOL_SOCKET, C[option], buf, len),
    `getsockopt(${option})`,
    name,
  );
  return buf[0];
}

/** `setsockopt(SOL_SOCKET, option)` for an `int` option. */
export function setIntOption(fd: number, option: IntOption, value: number, name: string): void {
  const C = socket();
  const buf = new Int32Array([INT_OPTIONS[option] === "bool" ? (value ? 1 : 0) : value]);
  sysOnce(
    () => libc().setsockopt(fd, C.SOL_SOCKET, C[option], buf, 4),
    `setsockopt(${option})`,
    name,
  );
}

/**
 * `getsockopt(SO_PEERCRED)`: the pid, uid and gid of the process that
 * connected (or created the socket pair), captured by the kernel at
 * `connect`/`socketpair` time.
 */
export function peerCredentials(fd: number, name: string): Credentials {
  const C = socket();
  const L = socketLayout();
  const buf = new Uint8Array(L.ucred.size);
  const len = new Uint32Array([L.ucred.size]);
  sysOnce(
    () => libc().getsockopt(fd, C.SOL_SOCKET, C.SO_PEERCRED, buf, len),
    "getsockopt(SO_PEERCRED)",
    name,
  );
  const v = new DataView(buf.buffer);
  return {
    pid: getField(v, L.ucred, "pid", true),
    uid: getField(v, L.ucred, "uid"),
    gid: getField(v, L.ucred, "gid"),
  };
}
