/**
 * Shared pieces of the POSIX mechanisms: name validation (done in TS because
 * libc's handling is inconsistent across shm, mq and sem) and the owner/mode
 * check made before trusting an object someone else may have created.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { invalidArgument, ipcError } from "./_errors.ts";
import type { StatInfo } from "./_stat.ts";

const encoder = new TextEncoder();

/**
 * Validates a POSIX IPC name: one leading slash, no other slash, no NUL, not
 * `/.` or `/..`, at most `maxBytes` UTF-8 bytes including the slash.
 */
export function checkPosixName(
  name: unknown,
  syscall: string,
  maxBytes = 255,
): string {
  if (typeof name !== "string") {
    throw invalidArgument(syscall, String(name), 'name must be a string like "/jobs"');
  }
  const why = !name.startsWith("/")
    ? 'name must start with one slash, like "/jobs"'
    : name.length === 1
    ? "name must have at least one character after the slash"
    : name.indexOf("/", 1) !== -1
    ? "name must not contain a slash after the leading one"
    : name.includes("\0")
    ? "name must not contain NUL"
    : name === "/." || name === "/.."
    ? 'name must not be "." or ".."'
    : encoder.encode(name).length > maxBytes
    ? `name must be at most ${maxBytes} bytes (UTF-8, including the slash)`
    : undefined;
  if (why) throw invalidArgument(syscall, name, why);
  return name;
}

/** Options shared by every `open*` of an existing POSIX object. */
export interface TrustOptions {
  /**
   * Accept an object owned by another user, or writable by group or others.
   * Default `false`: such an object is refused with `EPERM` before any data
   * is read (someone may have planted it).
   */
  trustAnyOwner?: boolean;
}

/** Throws EPERM if `st` is not owned by us or is group/other-writable. */
export function checkTrusted(
  st: StatInfo,
  syscall: string,
  name: string,
  kind: string,
  options: TrustOptions,
): void {
  if (options.trustAnyOwner) return;
  const me = libc().geteuid();
  if (st.uid !== me) {
    throw ipcError({
      code: "EPERM",
      syscall,
      object: name,
      detail: `${kind} is owned by uid ${st.uid}, not by this user (uid ${me})`,
      hint: "pass { trustAnyOwner: true } if that is expected",
    });
  }
  if ((st.mode & 0o022) !== 0) {
    throw ipcError({
      code: "EPERM",
      syscall,
      object: name,
      detail: `${kind} is writable by group or others (mode 0${st.mode.toString(8)})`,
      hint: "pass { trustAnyOwner: true } if that is expected",
    });
  }
}

/** Validates a positive (or non-negative) safe integer argument. */
export function checkInt(
  value: unknown,
  what: string,
  syscall: string,
  object: string | undefined,
  { min = 1, max = Number.MAX_SAFE_INTEGER, limit }: {
    min?: number;
    max?: number;
    limit?: string;
  } = {},
): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(
      syscall,
      object,
      `${what} must be an integer between ${min} and ${max}${
        limit ? ` (limit ${limit})` : ""
      }, got ${String(value)}`,
      limit ? { limit } : undefined,
    );
  }
  return value;
}
