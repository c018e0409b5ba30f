/**
 * `struct msgbuf` details for System V message queues: the `long` type
 * written and read without BigInt allocations, and argument checks.
 *
 * @module
 */
import { describe } from "./_validate.ts";
import { invalidArgument } from "./_errors.ts";
import { off } from "../ffi/struct.ts";
import { sysvLayout } from "../ffi/sysv.ts";

/** Offsets of `mtype` and `mtext` in `struct msgbuf`, read from the layout table once. */
export interface MsgbufOffsets {
  type: number;
  text: number;
}
let offsets: MsgbufOffsets | undefined;

/** The `struct msgbuf` offsets of this platform (checked against C by the layout test). */
export function msgbuf(): MsgbufOffsets {
  if (offsets === undefined) {
    const L = sysvLayout().msgbuf;
    offsets = { type: off(L, "mtype"), text: off(L, "mtext") };
  }
  return offsets;
}

/** A buffer for `struct msgbuf` with `text` bytes of room, and its view. */
export class MsgBuffer {
  bytes: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  view: DataView = new DataView(this.bytes.buffer);
  /** A cached `bytes.subarray(mtext, mtext + textView.length)`, for copying out without allocating. */
  #text: Uint8Array<ArrayBuffer> = this.bytes;

  /** Makes room for `text` bytes of message text (never shrinks). */
  fit(text: number): Uint8Array<ArrayBuffer> {
    const need = msgbuf().text + text;
    if (this.bytes.byteLength < need) {
      this.bytes = new Uint8Array(Math.max(need, 256));
      this.view = new DataView(this.bytes.buffer);
      this.#text = this.bytes.subarray(0, 0);
    }
    return this.bytes;
  }

  /** The first `n` bytes of message text, as a view (reused while `n` stays the same). */
  text(n: number): Uint8Array<ArrayBuffer> {
    // fit() resets the view whenever it replaces the buffer.
    if (this.#text.length !== n) {
      const at = msgbuf().text;
      this.#text = this.bytes.subarray(at, at + n);
    }
    return this.#text;
  }

  /** Writes the `long` message type (a safe integer) without allocating a BigInt. */
  setType(type: number): void {
    const at = msgbuf().type;
    this.view.setUint32(at, type >>> 0, true);
    this.view.setInt32(at + 4, Math.floor(type / 2 ** 32), true);
  }

  /** Reads the `long` message type. */
  getType(): number {
    const at = msgbuf().type;
    return this.view.getInt32(at + 4, true) * 2 ** 32 + this.view.getUint32(at, true);
  }
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
