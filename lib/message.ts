/**
 * The one shape of a received message: `bytes`, `text()`, and in each
 * mechanism's subclass its metadata (`type` for a System V queue).
 *
 * @module
 */

const decoder = new TextDecoder();

/** A received message: its bytes, and (in subclasses) its mechanism's metadata. */
export class Message {
  /** The payload. */
  readonly bytes: Uint8Array<ArrayBuffer>;

  /** Wraps a received payload (the message owns `bytes`). */
  constructor(bytes: Uint8Array<ArrayBuffer>) {
    this.bytes = bytes;
  }

  /** The payload decoded as UTF-8 (malformed sequences become U+FFFD). */
  text(): string {
    return decoder.decode(this.bytes);
  }
}
