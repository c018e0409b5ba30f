/**
 * The sending end of a channel.
 *
 * @module
 */
import { describe } from "./_validate.ts";
import { invalidArgument } from "./_errors.ts";
import { startWait, type WaitOptions } from "./wait.ts";
import { HEADER_SIZE, SLOT_HEADER } from "./_channel_layout.ts";
import type { ChannelMemory } from "./_channel_open.ts";
import type { ChannelEnd, Ring } from "./_channel_ring.ts";
import { type CHANNEL, ChannelHandle, live, notPending, ringOf, waitFor } from "./_channel_base.ts";

const encoder = new TextEncoder();
/** Bytes written before a batch publishes what it has so far. */
const PUBLISH_BYTES = 16384;

/**
 * The sending end of a channel: copies messages into the shared ring, or
 * lends a slot to fill in place ({@linkcode ChannelSender.reserve}).
 *
 * @example
 * ```ts
 * import { createChannelMemfd } from "@ipckit/ipckit/channel";
 * using tx = createChannelMemfd("send", { capacity: 8, messageSize: 64 });
 * tx.trySend("hello"); // true: the receiver gets it once one attaches
 * ```
 */
export class ChannelSender extends ChannelHandle {
  readonly #ring: Ring;

  /** Attaches to `memory`. Internal: use the factory functions. */
  constructor(token: typeof CHANNEL, memory: ChannelMemory, end: ChannelEnd, posix: boolean) {
    super(token, memory, end, posix);
    this.#ring = ringOf(this);
  }

  #bytes(message: Uint8Array | string, op: string): Uint8Array {
    const bytes = typeof message === "string" ? encoder.encode(message) : message;
    if (!(bytes instanceof Uint8Array)) {
      throw invalidArgument(op, this.name, "a message is a Uint8Array or a string");
    }
    if (bytes.length > this.messageSize) {
      throw invalidArgument(
        op,
        this.name,
        `${bytes.length}-byte message exceeds the channel's message size (${this.messageSize})`,
      );
    }
    return bytes;
  }

  /**
   * Sends one message if a slot is free: `true`, or `null` when the ring is
   * full. Never waits.
   *
   * @throws {IpcError} EPIPE if the receiver closed or its process is gone;
   * EINVAL for a message larger than `messageSize`.
   */
  trySend(message: Uint8Array | string): true | null {
    live(this, "send");
    notPending(this, this.#ring, "send");
    const bytes = this.#bytes(message, "send");
    return this.#trySend(bytes);
  }

  #trySend(bytes: Uint8Array): true | null {
    const ring = this.#ring;
    ring.checkReceiver();
    if (ring.free() === 0) {
      ring.checkPeer(); // a dead receiver is EPIPE, not "full" forever
      return null;
    }
    ring.put(bytes);
    ring.publish();
    return true;
  }

  /**
   * Sends one message, waiting (spin, then sleep) while the ring is full.
   *
   * @throws {IpcError} EPIPE if the receiver closes or dies; ETIMEDOUT.
   */
  async send(message: Uint8Array | string, options?: WaitOptions): Promise<void> {
    const deadline = startWait(options, "send", this.name);
    live(this, "send");
    notPending(this, this.#ring, "send");
    const bytes = this.#bytes(message, "send");
    if (this.#trySend(bytes) !== null) return;
    await waitFor(this, this.#ring, () => {
      live(this, "send");
      return this.#trySend(bytes);
    }, deadline);
  }

  #putMany(messages: readonly Uint8Array[], from: number): number {
    const ring = this.#ring;
    ring.checkReceiver();
    const n = Math.min(ring.free(), messages.length - from);
    if (n === 0) return 0;
    // The hot loop of streaming: locals only, one publish per batch of small
    // messages, but one at least every PUBLISH_BYTES so that a receiver can
    // copy out large messages while later ones are still being written.
    const { u8, i32, mask, slotSize } = ring;
    let pos = ring.pos;
    let unpublished = 0;
    for (let i = 0; i < n; i++) {
      const m = messages[from + i];
      const off = HEADER_SIZE + (pos & mask) * slotSize;
      u8.set(m, off + SLOT_HEADER);
      i32[off >> 2] = m.length;
      pos = (pos + 1) | 0;
      unpublished += m.length + SLOT_HEADER;
      if (unpublished >= PUBLISH_BYTES && i < n - 1) {
        ring.pos = pos;
        ring.publish();
        unpublished = 0;
      }
    }
    ring.pos = pos;
    ring.publish();
    return n;
  }

  /** The messages as bytes, checked; the same array when all already are (no allocation). */
  #all(messages: readonly (Uint8Array | string)[], op: string): readonly Uint8Array[] {
    if (!Array.isArray(messages)) throw invalidArgument(op, this.name, "messages must be an array");
    for (const m of messages) {
      if (!(m instanceof Uint8Array) || m.length > this.messageSize) {
        return messages.map((x) => this.#bytes(x, op));
      }
    }
    return messages as readonly Uint8Array[];
  }

  /**
   * Sends as many of `messages` as fit now, publishing them at once: the
   * count sent, or `null` if none fit. Never waits.
   */
  trySendMany(messages: readonly (Uint8Array | string)[]): number | null {
    live(this, "send");
    notPending(this, this.#ring, "send");
    const all = this.#all(messages, "send");
    if (all.length === 0) return 0;
    const n = this.#putMany(all, 0);
    return n === 0 ? null : n;
  }

  /**
   * Sends every message in order, publishing each run that fits at once and
   * waiting for space in between. Lengths are checked before any is sent.
   */
  async sendMany(
    messages: readonly (Uint8Array | string)[],
    options?: WaitOptions,
  ): Promise<void> {
    const deadline = startWait(options, "send", this.name);
    live(this, "send");
    notPending(this, this.#ring, "send");
    const all = this.#all(messages, "send");
    let done = this.#putMany(all, 0);
    while (done < all.length) {
      done += await waitFor(this, this.#ring, () => {
        live(this, "send");
        const n = this.#putMany(all, done);
        return n === 0 ? null : n;
      }, deadline);
    }
  }

  #tryReserve(): Uint8Array<ArrayBuffer> | null {
    const ring = this.#ring;
    ring.checkReceiver();
    if (ring.free() === 0) return null;
    ring.pending = true;
    const off = ring.slot(ring.pos) + SLOT_HEADER;
    return ring.u8.subarray(off, off + this.messageSize);
  }

  /**
   * Lends the next free slot (a `messageSize`-byte view into the shared
   * ring) to fill in place; {@linkcode ChannelSender.commit} sends it. `null`
   * when the ring is full. The view is valid only until `commit`.
   */
  tryReserve(): Uint8Array<ArrayBuffer> | null {
    live(this, "reserve");
    notPending(this, this.#ring, "reserve");
    return this.#tryReserve();
  }

  /** Waits for a free slot and lends it (see {@linkcode ChannelSender.tryReserve}). */
  async reserve(options?: WaitOptions): Promise<Uint8Array<ArrayBuffer>> {
    const deadline = startWait(options, "reserve", this.name);
    live(this, "reserve");
    notPending(this, this.#ring, "reserve");
    return this.#tryReserve() ?? await waitFor(this, this.#ring, () => {
      live(this, "reserve");
      return this.#tryReserve();
    }, deadline);
  }

  /** Sends the first `length` bytes of the reserved slot. */
  commit(length: number): void {
    live(this, "commit");
    const ring = this.#ring;
    if (!ring.pending) throw invalidArgument("commit", this.name, "no slot is reserved");
    if (!Number.isInteger(length) || length < 0 || length > this.messageSize) {
      throw invalidArgument(
        "commit",
        this.name,
        `length must be an integer from 0 to ${this.messageSize}, got ${describe(length)}`,
      );
    }
    ring.i32[ring.slot(ring.pos) >> 2] = length;
    ring.pos = (ring.pos + 1) | 0;
    ring.pending = false;
    ring.publish();
  }
}
