/**
 * `struct msgbuf` details for System V message queues: the `long` type
 * written and read without BigInt allocations, and argument checks.
 *
 * @module
 */
import { describe } from "./_validate.ts";
import { invalidArgument } from "./_errors.ts";

/** A one-entry `BigInt()` cache: hot loops pass the same size or type again and again. */
export class BigCache {
  #n = NaN;
  #big = 0n;
  of(n: number): bigint {
    if (n !== this.#n) {
      this.#big = BigInt(n);
      this.#n = n;
    }
    return this.#big;
  }
}

const views = new WeakMap<ArrayBuffer, DataView>();

function viewOf(buf: Uint8Array<ArrayBuffer>): DataView {
  let v = views.get(buf.buffer);
  if (v === undefined) views.set(buf.buffer, v = new DataView(buf.buffer));
  return v;
}

/** Writes a `long` message type (a safe integer) without allocating a BigInt. */
export function writeType(buf: Uint8Array<ArrayBuffer>, at: number, type: number): void {
  const v = viewOf(buf);
  v.setUint32(at, type >>> 0, true);
  v.setInt32(at + 4, Math.floor(type / 2 ** 32), true);
}

/** Reads a `long` message type. */
export function readType(buf: Uint8Array<ArrayBuffer>, at: number): number {
  const v = viewOf(buf);
  return v.getInt32(at + 4, true) * 2 ** 32 + v.getUint32(at, true);
}

export function checkType(type: unknown, syscall: string, object: string, min: number): number {
  if (typeof type !== "number" || !Number.isSafeInteger(type) || type < min) {
    throw invalidArgument(
      syscall,
      object,
      `message type must be a safe integer >= ${min}, got ${describe(type)}`,
    );
  }
  return type;
}

export function checkSize(n: unknown, what: string, syscall: string, object: string): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw invalidArgument(syscall, object, `${what} must be an integer >= 0, got ${describe(n)}`);
  }
  return n;
}
