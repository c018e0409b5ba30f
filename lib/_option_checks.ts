/**
 * Argument checks the lock and signal calls share, run before any syscall:
 * an options argument must be an object (or omitted), and a wait's
 * `timeout` may not be `null` (which would otherwise read as "forever").
 *
 * @module
 */
import { invalidArgument } from "./_errors.ts";
import { Deadline, type WaitOptions } from "./wait.ts";

/** `options` itself, `{}` when omitted; EINVAL for `null` or a non-object. */
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

/** A {@linkcode Deadline} for `options`, refusing `timeout: null` (EINVAL) first. */
export function deadlineFor(
  options: WaitOptions | undefined,
  syscall: string,
  object?: string | number,
): Deadline {
  const o = optionsObject(options, syscall, object);
  if ((o as { timeout?: unknown }).timeout === null) {
    throw invalidArgument(
      syscall,
      object,
      "timeout must be a number of milliseconds >= 0 (omit it to wait forever), got null",
    );
  }
  return new Deadline(o, syscall, object);
}

/** EINVAL unless `value` is a boolean or undefined. */
export function checkBoolean(
  value: unknown,
  name: string,
  syscall: string,
  object?: string | number,
): boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  throw invalidArgument(syscall, object, `${name} must be a boolean, got ${describe(value)}`);
}

/** A short description of a bad value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "bigint") return `${value}n (a bigint)`;
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}
