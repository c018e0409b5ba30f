/**
 * System V keys. Objects are created with `IPC_PRIVATE` (key 0) by default:
 * such an object is reachable only through its id, which the creator hands
 * to its peers (as an argument, in a message, through a file only they can
 * read). A shared well-known key is a name anyone on the host may squat;
 * `key: "random"` picks an unused random one, and {@linkcode ftok} derives
 * one from a path (opt-in: collisions are structural, see below).
 *
 * @example Keys as `ipcs` prints them
 * ```ts
 * import { formatSysvKey, parseSysvKey } from "@ipckit/ipckit";
 * console.log(formatSysvKey(parseSysvKey("0x1234abcd"))); // 0x1234abcd
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { invalidArgument, sys } from "./_errors.ts";
import { checkPath } from "./_validate.ts";
import { formatKey, shown } from "./_sysv_key.ts";
import { statPath } from "./_stat.ts";

/** The key that always makes a new object reachable only by id. */
export const IPC_PRIVATE = 0;

/**
 * `ftok(path, projId)`: a key derived from the inode of an existing `path`
 * and the low 8 bits of `projId`, returned as an unsigned 32-bit number.
 *
 * Opt-in only: the key is `(projId & 0xff) << 24 | (st_dev & 0xff) << 16 |
 * (st_ino & 0xffff)`, so unrelated files can collide, and a file recreated
 * with another inode yields another key. Prefer `IPC_PRIVATE` and passing the
 * id, or `key: "random"`.
 *
 * @example
 * ```ts
 * import { ftok } from "@ipckit/ipckit";
 * const key = ftok("/tmp", 1);
 * ```
 *
 * @throws {IpcError} EINVAL for a `projId` outside 1..255
 * (checked before the call); `NotFound` (ENOENT) if `path` does not exist.
 */
export function ftok(path: string, projId: number): number {
  checkPath(path, "ftok");
  if (typeof projId !== "number" || !Number.isInteger(projId) || projId < 1 || projId > 255) {
    throw invalidArgument(
      "ftok",
      path,
      `projId must be an integer from 1 to 255 (only its low 8 bits count), got ${shown(projId)}`,
    );
  }
  const p = cstr(path);
  // ftok's only failure is its stat(); stat first for a typed ENOENT/EACCES.
  statPath(path);
  return sys(() => libc().ftok(p, projId), "ftok", path, { kind: "path" }) >>> 0;
}

/**
 * `0x1234abcd`: a key as `ipcs` and `lsipc` print it.
 *
 * @example
 * ```ts
 * import { formatSysvKey } from "@ipckit/ipckit";
 * console.log(formatSysvKey(0)); // 0x00000000
 * ```
 */
export function formatSysvKey(key: number): string {
  if (typeof key !== "number" || !Number.isInteger(key) || key < -0x80000000 || key > 0xffffffff) {
    throw invalidArgument("formatSysvKey", shown(key), "a key is a 32-bit integer");
  }
  return formatKey(key);
}

/**
 * Parses a key written as `ipcs` prints it (`0x1234abcd`) or in decimal
 * (signed, as `/proc/sysvipc` shows it, or unsigned). Returns the unsigned
 * value.
 *
 * @example
 * ```ts
 * import { parseSysvKey } from "@ipckit/ipckit";
 * console.log(parseSysvKey("-2") === parseSysvKey("0xfffffffe")); // true
 * ```
 *
 * @throws {IpcError} EINVAL if `text` is not a 32-bit key, or is -1
 * (`0xffffffff`, what a failed `ftok()` returns).
 */
export function parseSysvKey(text: string): number {
  if (typeof text !== "string") {
    throw invalidArgument("key", shown(text), "a key to parse is a string like 0x1234abcd");
  }
  const t = text.trim();
  let n = NaN;
  if (/^0x[0-9a-f]{1,8}$/i.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^-?\d{1,10}$/.test(t)) n = Number(t);
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) {
    throw invalidArgument(
      "key",
      shown(text),
      "a key is 0x followed by up to 8 hex digits, or a 32-bit decimal integer",
    );
  }
  if ((n | 0) === -1) {
    throw invalidArgument(
      "key",
      shown(text),
      "key -1 (0xffffffff) is ftok()'s failure value, not a key",
    );
  }
  return n >>> 0;
}
