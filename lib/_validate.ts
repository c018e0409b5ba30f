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
      `mode must be an integer between 0 and 0o7777, got ${String(mode)}`,
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
    throw invalidArgument(syscall, String(path), "path must be a non-empty string");
  }
  if (path.includes("\0")) throw invalidArgument(syscall, path, "path must not contain NUL");
  return path;
}
