/**
 * The one shape of a received message, for every mechanism that receives
 * messages: a {@linkcode Message} carries the payload as `bytes` and decodes
 * it with `text()`; each mechanism's subclass adds its metadata (`priority`
 * for a POSIX queue, `type` for a System V queue, `fds`/`credentials` for
 * sockets).
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
