/**
 * System V keys and ids: validation and formatting shared by the families,
 * the inspection module and the CLI.
 *
 * @module
 */
import { invalidArgument } from "./_errors.ts";

/**
 * A bad argument as an error message shows it: never empty, never throwing
 * (`""`, `1n`, `[]`, `{}`, `Symbol(x)`).
 */
export function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "an object";
  return String(value);
}

/** The object a creation names in its errors: `IPC_PRIVATE`, `key 0x...`, or the bad key. */
export function creationObject(key: unknown): string {
  if (key === undefined || key === 0) return "IPC_PRIVATE";
  if (key === "random") return "key random";
  if (typeof key === "number" && Number.isInteger(key) && key >= -0x80000000 && key <= 0xffffffff) {
    return `key ${formatKey(key)}`;
  }
  return `key ${shown(key)}`;
}

/** `0x1234abcd`: a key as `ipcs` prints it. */
export function formatKey(key: number): string {
  return "0x" + (key >>> 0).toString(16).padStart(8, "0");
}

/**
 * Validates a key (a 32-bit integer, signed or unsigned) and returns it as
 * the signed `key_t` the C library takes. `-1` (`0xffffffff`) is refused:
 * it is what a failed `ftok()` returns, so it names no object anyone meant.
 */
export function checkKey(key: unknown, syscall: string): number {
  if (
    typeof key !== "number" || !Number.isInteger(key) || key < -0x80000000 || key > 0xffffffff
  ) {
    throw invalidArgument(
      syscall,
      `key ${shown(key)}`,
      "a System V key must be a 32-bit integer (0 is IPC_PRIVATE)",
    );
  }
  if ((key | 0) === -1) {
    throw invalidArgument(
      syscall,
      formatKey(key),
      "key -1 (0xffffffff) is ftok()'s failure value, not a key",
    );
  }
  return key | 0;
}

/** Validates a System V id (a non-negative int). */
export function checkId(id: unknown, syscall: string): number {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
    throw invalidArgument(
      syscall,
      `id ${shown(id)}`,
      "a System V id must be an integer from 0 to 2147483647",
    );
  }
  return id;
}

/** A random key that is neither `IPC_PRIVATE` nor -1. */
export function randomKey(): number {
  const b = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(b);
    if (b[0] !== 0 && b[0] !== 0xffffffff) return b[0];
  }
}
