/**
 * The one shape of a received message: its bytes, and its text.
 *
 * @module
 */
const decoder = new TextDecoder();

/** A received message: `bytes`, `text()`, and its mechanism's metadata in subclasses. */
export class Message {
  /** The payload. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Wraps `bytes` (not copied). */
  constructor(bytes: Uint8Array<ArrayBuffer>) {
    this.bytes = bytes;
  }
  /** The payload as UTF-8. */
  text(): string {
    return decoder.decode(this.bytes);
  }
}
