/**
 * What a lock request means: its kind and byte range, checked before any
 * syscall, and the `struct flock` that describes it to `fcntl`.
 *
 * @module
 */
import { describe, optionsObject } from "./_validate.ts";
import { lock as lockConstants, lockLayout } from "../ffi/lock.ts";
import { setField } from "../ffi/struct.ts";
import { invalidArgument, ipcError } from "./_errors.ts";

/**
 * Which lock mechanism: `"flock"` (whole file, per open file, what
 * `flock(1)` uses), `"ofd"` (byte ranges, per open file), `"posix"` (byte
 * ranges, per process: see the module notes for its traps).
 */
export type LockKind = "flock" | "ofd" | "posix";

/** What to lock. */
export interface LockRequest {
  /** A shared (read) lock instead of an exclusive (write) one. Default `false`. */
  shared?: boolean;
  /**
   * Lock mechanism. Default `"flock"`, or `"ofd"` when `start` or `length`
   * is given.
   */
  kind?: LockKind;
  /** First byte of the range (record locks only). Default `0`. */
  start?: number;
  /** Bytes in the range; `0` means "to end of file, however long it grows". Default `0`. */
  length?: number;
}

/** A checked {@linkcode LockRequest}. */
export interface Range {
  kind: LockKind;
  shared: boolean;
  start: number;
  length: number;
}

const KINDS: readonly string[] = ["flock", "ofd", "posix"];

/** Checks a request (EINVAL, EOVERFLOW) and fills in its defaults. */
export function checkRequest(
  req: LockRequest | undefined,
  syscall: string,
  object: string,
): Range {
  const r = optionsObject(req, syscall, object);
  const ranged = r.start !== undefined || r.length !== undefined;
  const kind = r.kind ?? (ranged ? "ofd" : "flock");
  if (!KINDS.includes(kind)) {
    throw invalidArgument(
      syscall,
      object,
      `kind must be "flock", "ofd" or "posix", got ${describe(kind)}`,
    );
  }
  if (kind === "flock" && ranged) {
    throw invalidArgument(syscall, object, 'flock locks the whole file; use kind "ofd" for ranges');
  }
  const int = (v: unknown, name: string): number => {
    if (v === undefined) return 0;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw invalidArgument(
        syscall,
        object,
        `${name} must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}, got ${describe(v)}`,
      );
    }
    return v;
  };
  const start = int(r.start, "start");
  const length = int(r.length, "length");
  if (start + length > Number.MAX_SAFE_INTEGER) {
    throw ipcError({
      code: "EOVERFLOW",
      syscall,
      object,
      detail: `range ${start}+${length} overflows the largest file offset ipckit handles`,
    });
  }
  if (r.shared !== undefined && typeof r.shared !== "boolean") {
    throw invalidArgument(syscall, object, `shared must be a boolean, got ${describe(r.shared)}`);
  }
  return { kind, shared: r.shared ?? false, start, length };
}

let scratch: { buf: Uint8Array<ArrayBuffer>; view: DataView } | undefined;

/**
 * Fills the one `struct flock` scratch buffer. Every fcntl lock call is
 * synchronous, so one buffer serves them all (and `F_GETLK` results are read
 * before the next call).
 */
export function flockStruct(type: number, start: number, length: number): Uint8Array<ArrayBuffer> {
  const L = lockLayout().flock;
  if (!scratch) {
    const buf = new Uint8Array(L.size);
    scratch = { buf, view: new DataView(buf.buffer) };
  }
  const v = scratch.view;
  scratch.buf.fill(0);
  setField(v, L, "l_type", type);
  setField(v, L, "l_whence", lockConstants().SEEK_SET);
  setField(v, L, "l_start", start);
  setField(v, L, "l_len", length);
  // l_pid stays 0, as OFD locks require.
  return scratch.buf;
}

/** The C call a kind of lock goes through, for error messages. */
export function syscallName(kind: LockKind, op: "set" | "get"): string {
  if (kind === "flock") return "flock";
  if (kind === "ofd") return op === "set" ? "fcntl(F_OFD_SETLK)" : "fcntl(F_OFD_GETLK)";
  return op === "set" ? "fcntl(F_SETLK)" : "fcntl(F_GETLK)";
}

/** EINVAL unless `offset` is a safe integer >= 0. */
export function checkOffset(offset: unknown, syscall: string, object: string): void {
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalidArgument(
      syscall,
      object,
      `offset must be an integer >= 0, got ${describe(offset)}`,
    );
  }
}

/** EINVAL unless `buffer` is a `Uint8Array` over a live (not detached) buffer. */
export function checkBytes(buffer: unknown, syscall: string, object: string): Uint8Array {
  if (!(buffer instanceof Uint8Array)) {
    throw invalidArgument(syscall, object, `buffer must be a Uint8Array, got ${describe(buffer)}`);
  }
  if ((buffer.buffer as ArrayBuffer).detached) {
    throw invalidArgument(syscall, object, "buffer is detached (transferred)");
  }
  return buffer;
}
