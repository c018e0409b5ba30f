/**
 * Input checks shared by every mechanism, run before any syscall.
 *
 * @module
 */
import { invalidArgument } from "./_errors.ts";

/** Validates a permission mode (0 to 0o7777); returns it. */
export function checkMode(mode: unknown, syscall: string, object?: string | number): number {
  if (typeof mode !== "number" || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw invalidArgument(
      syscall,
      object,
      `mode must be an integer between 0 and 0o7777, got ${describe(mode)}`,
    );
  }
  return mode;
}

/** Parses a mode written in octal (`"0600"`, `"600"`, `"0o600"`), as the CLI takes it. */
export function parseMode(text: string, syscall: string): number {
  const m = /^(?:0o?)?([0-7]{1,4})$/.exec(text);
  if (!m) throw invalidArgument(syscall, undefined, `mode must be octal like 0600, got "${text}"`);
  return parseInt(m[1], 8);
}

/** Validates a filesystem path for a `"buffer"` argument: non-empty, no NUL. */
export function checkPath(path: unknown, syscall: string): string {
  if (typeof path !== "string" || path.length === 0) {
    throw invalidArgument(
      syscall,
      objectOf(path),
      `path must be a non-empty string, got ${describe(path)}`,
    );
  }
  if (path.includes("\0")) throw invalidArgument(syscall, path, "path must not contain NUL");
  return path;
}

/** Largest payload one read, write, send or receive moves: keeps the `i32` result exact. */
export const MAX_IO = 1 << 30;

/**
 * Validates a caller's byte buffer before an attempt: it must be a typed
 * array or DataView whose memory is still there (not detached by a
 * `transfer()`, not cut off by shrinking a resizable buffer below `atLeast`
 * bytes). Returns its current byte length. Run it before every attempt of a
 * waiting operation, not once per call: the caller may change the buffer
 * while the wait is pending, and a detached buffer would otherwise read as
 * end of file (a zero-length read) or as a write of nothing.
 */
export function checkBytes(
  buffer: unknown,
  syscall: string,
  object: string | number | undefined,
  atLeast = 0,
): number {
  if (!ArrayBuffer.isView(buffer)) {
    throw invalidArgument(
      syscall,
      object,
      `buffer must be a Uint8Array (or another typed array), got ${describe(buffer)}`,
    );
  }
  const backing = buffer.buffer as ArrayBuffer;
  if (backing.detached) {
    throw invalidArgument(syscall, object, "buffer was detached (transferred)");
  }
  if ((backing as { resizable?: boolean }).resizable && outOfBounds(buffer)) {
    throw invalidArgument(syscall, object, "buffer is out of bounds (its resizable buffer shrank)");
  }
  const n = buffer.byteLength;
  if (n < atLeast) {
    throw invalidArgument(
      syscall,
      object,
      `buffer shrank from ${atLeast} to ${n} bytes (a resizable buffer was resized)`,
    );
  }
  return n;
}

/**
 * Whether a view on a resizable buffer now lies past its end. Such a view
 * reports length 0 but throws on use; `slice(0, 0)` (typed arrays) and the
 * `byteLength` getter (DataView) validate it without copying anything.
 */
function outOfBounds(view: ArrayBufferView): boolean {
  try {
    if (view instanceof DataView) void view.byteLength;
    else (view as Uint8Array).slice(0, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * A short description of a value for error messages (never its whole
 * content), that never throws: not for a detached or out-of-bounds view
 * (whose `String()` throws), an object without `toString`, a symbol or a
 * revoked proxy.
 */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "bigint") return `the bigint ${value}n`;
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") {
    if (Array.isArray(value)) return "an array";
    try {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === "string" ? name : "an object";
    } catch {
      return "an object";
    }
  }
  return `${typeof value} ${String(value)}`;
}

/**
 * A caller's value as the `object` an error names: itself if it is a string
 * or a number, else its {@linkcode describe}ption (never throws).
 */
export function objectOf(value: unknown): string | number {
  return typeof value === "string" || typeof value === "number" ? value : describe(value);
}

/**
 * An options argument: `undefined` is `{}`; anything but a plain object
 * (`null`, a string, an array) is EINVAL naming the call.
 */
export function optionsObject<T extends object>(
  options: T | undefined,
  syscall: string,
  object?: string | number,
): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalidArgument(syscall, object, `options must be an object, got ${describe(options)}`);
  }
  return options;
}

/**
 * A boolean option: `undefined` is `fallback` (default `false`; `null`: a
 * value is required), anything but a boolean EINVAL.
 */
export function checkFlag(
  value: unknown,
  what: string,
  syscall: string,
  object: string | number | undefined,
  fallback: boolean | null = false,
): boolean {
  if (value === undefined && fallback !== null) return fallback;
  if (typeof value !== "boolean") {
    throw invalidArgument(syscall, object, `${what} must be true or false, got ${describe(value)}`);
  }
  return value;
}
