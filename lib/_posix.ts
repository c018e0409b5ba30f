/**
 * Shared pieces of the POSIX mechanisms: name validation (done in TS because
 * libc's handling is inconsistent across shm, mq and sem) and integer checks.
 * The trust rule is the shared one in `_trust.ts`.
 *
 * @module
 */
import { describe, objectOf } from "./_validate.ts";
import { invalidArgument, ipcError } from "./_errors.ts";

const encoder = new TextEncoder();

/**
 * Longest name of a queue or shared-memory object after the slash: the
 * kernel's `NAME_MAX` (255 bytes), the limit of one path component in the
 * mqueue filesystem and in `/dev/shm`.
 */
export const POSIX_NAME_MAX = 255;

/**
 * Longest semaphore name after the slash: glibc keeps a semaphore as the
 * file `/dev/shm/sem.<name>`, so `NAME_MAX` (255) minus the 4 bytes of `sem.`.
 */
export const SEMAPHORE_NAME_MAX = 251;

/**
 * Validates a POSIX IPC name: one leading slash, then 1 to `maxBytes` UTF-8
 * bytes with no other slash and no NUL, not `.` or `..`. Too long is
 * `ENAMETOOLONG` (what the kernel says) naming the limit; anything else EINVAL.
 */
export function checkPosixName(
  name: unknown,
  syscall: string,
  maxBytes = POSIX_NAME_MAX,
): string {
  if (typeof name !== "string") {
    throw invalidArgument(
      syscall,
      objectOf(name),
      `name must be a string like "/jobs", got ${describe(name)}`,
    );
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
    : undefined;
  if (why) throw invalidArgument(syscall, name, why);
  const bytes = encoder.encode(name).length - 1;
  if (bytes > maxBytes) {
    const limit = maxBytes === SEMAPHORE_NAME_MAX ? "NAME_MAX - 4 (sem.)" : "NAME_MAX";
    throw ipcError({
      code: "ENAMETOOLONG",
      syscall,
      object: name,
      limit,
      detail: `name is ${bytes} bytes after the slash; the limit is ${maxBytes} (${limit}, UTF-8)`,
    });
  }
  return name;
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
      }, got ${describe(value)}`,
      limit ? { limit } : undefined,
    );
  }
  return value;
}

/** EINVAL for a caller's buffer that was detached (transferred away). */
export function detachedError(syscall: string, object: string | undefined) {
  return invalidArgument(syscall, object, "the buffer is detached (it was transferred away)");
}

/** Whether a view's buffer was detached (a `SharedArrayBuffer` never is). */
export function isDetached(view: ArrayBufferView): boolean {
  return (view.buffer as { detached?: boolean }).detached === true;
}

/** `value`, or `fallback` when it is `undefined` (`null` stays, to be refused as EINVAL). */
export function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}
