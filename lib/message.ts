/**
 * The one shape of a received message, for every mechanism that receives
 * messages: POSIX and System V queues, and sockets. A {@linkcode Message}
 * carries the payload as `bytes` and decodes it with `text()`; each
 * mechanism's subclass adds its metadata (`priority` for a POSIX queue,
 * `type` for a System V queue, `fds`/`credentials`/`address` for sockets).
 *
 * @example Reading a message from a POSIX queue
 * ```ts
 * import { createMessageQueue, Message } from "@ipckit/ipckit";
 * using q = createMessageQueue("/ipckit-doc-message", { maxMessages: 1, messageSize: 16 });
 * q.remove();
 * q.trySend("hi");
 * const m = q.tryReceive()!;
 * console.log(m instanceof Message, m.text(), m.bytes.length); // true hi 2
 * ```
 *
 * @module
 */
import { invalidArgument } from "./_errors.ts";
import { describe, objectOf } from "./_validate.ts";

const decoder = new TextDecoder();

/**
 * A received message: its bytes, and (in subclasses) its mechanism's metadata.
 *
 * @example One function for every mechanism's messages
 * ```ts
 * import { createSocketPair, createSysvMessageQueue, type Message } from "@ipckit/ipckit";
 * const describe = (m: Message) => `${m.bytes.length} bytes: ${m.text()}`;
 * const [a, b] = createSocketPair("dgram");
 * a.trySend(new TextEncoder().encode("from a socket"));
 * console.log(describe(b.tryReceive()!)); // 13 bytes: from a socket
 * a.close();
 * b.close();
 * using q = createSysvMessageQueue({ removeOnClose: true });
 * q.trySend("from a queue");
 * console.log(describe(q.tryReceive()!)); // 12 bytes: from a queue
 * ```
 */
export class Message {
  /** The payload. */
  readonly bytes: Uint8Array<ArrayBuffer>;

  /** Wraps a received payload (the message owns `bytes`). */
  constructor(bytes: Uint8Array<ArrayBuffer>) {
    if (!(bytes instanceof Uint8Array)) {
      throw invalidArgument(
        "Message",
        objectOf(bytes),
        `bytes must be a Uint8Array, got ${describe(bytes)}`,
      );
    }
    this.bytes = bytes;
  }

  /** The payload decoded as UTF-8 (malformed sequences become U+FFFD). */
  text(): string {
    return decoder.decode(this.bytes);
  }
}
