/**
 * Argument checks the lock and signal calls share, run before any syscall:
 * an options argument must be an object (or omitted), and a wait's
 * `timeout` may not be `null` (which would otherwise read as "forever").
 *
 * @module
 */
import { invalidArgument } from "./_errors.ts";
import { describe, optionsObject } from "./_validate.ts";
import { Deadline, type WaitOptions } from "./wait.ts";

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
