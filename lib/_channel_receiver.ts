/**
 * The receiving end of a channel.
 *
 * @module
 */
import { describe, optionsObject } from "./_validate.ts";
import { invalidArgument, type IpcError } from "./_errors.ts";
import { startWait, type WaitOptions } from "./wait.ts";
import { Message } from "./message.ts";
import { SLOT_HEADER } from "./_channel_layout.ts";
import type { ChannelMemory } from "./_channel_open.ts";
import type { ChannelEnd, MessageVisitor, Ring } from "./_channel_ring.ts";
import { type CHANNEL, ChannelHandle, live, notPending, ringOf, waitFor } from "./_channel_base.ts";

/** Options of {@linkcode ChannelReceiver.receiveMany} and {@linkcode ChannelReceiver.receiveEach}. */
export interface ReceiveManyOptions extends WaitOptions {
  /** Most messages to take in one call. Default: all that are waiting. */
  max?: number;
}

function checkMax(max: unknown, op: string, name: string): number {
  if (max === undefined) return Infinity;
  if (typeof max !== "number" || !(max >= 1) || (max !== Infinity && !Number.isInteger(max))) {
    throw invalidArgument(op, name, `max must be an integer >= 1, got ${describe(max)}`);
  }
  return max;
}

/**
 * The receiving end of a channel: copies messages out of the shared ring,
 * or reads them in place ({@linkcode ChannelReceiver.receiveView},
 * {@linkcode ChannelReceiver.receiveEach}).
 *
 * @example
 * ```ts
 * import { createChannel, openChannel } from "@ipckit/ipckit/channel";
 * const name = `/doc-${crypto.randomUUID()}`;
 * using rx = createChannel(name, "receive", { capacity: 8, messageSize: 64 });
 * using tx = openChannel(name, "send");
 * rx.remove();
 * await tx.send("hello");
 * console.log((await rx.receive({ timeout: 1000 })).text()); // hello
 * ```
 */
export class ChannelReceiver extends ChannelHandle {
  readonly #ring: Ring;

  /** Attaches to `memory`. Internal: use the factory functions. */
  constructor(token: typeof CHANNEL, memory: ChannelMemory, end: ChannelEnd, posix: boolean) {
    super(token, memory, end, posix);
    this.#ring = ringOf(this);
  }

  #take(): Message | null {
    const ring = this.#ring;
    if (ring.available() === 0) return null;
    const off = ring.slot(ring.pos);
    const len = ring.lengthAt(off);
    const bytes = ring.u8.slice(off + SLOT_HEADER, off + SLOT_HEADER + len);
    ring.pos = (ring.pos + 1) | 0;
    ring.consume();
    return new Message(bytes);
  }

  /** The next message, or `null` if none is waiting. Never waits. */
  tryReceive(): Message | null {
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    return this.#take() ?? this.#ring.nothingNow(() => this.#take());
  }

  /**
   * The next message, waiting (spin, then sleep) until one arrives.
   *
   * @throws {IpcError} EPIPE once the ring is empty and the sender closed
   * or its process is gone; ETIMEDOUT.
   */
  async receive(options?: WaitOptions): Promise<Message> {
    const deadline = startWait(options, "receive", this.name);
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    const m = this.#take();
    if (m !== null) return m;
    return await waitFor(this, this.#ring, () => {
      live(this, "receive");
      return this.#take();
    }, deadline);
  }

  #into(buffer: Uint8Array): { length: number } | null {
    const ring = this.#ring;
    if (ring.available() === 0) return null;
    const off = ring.slot(ring.pos);
    const len = ring.lengthAt(off);
    buffer.set(ring.u8.subarray(off + SLOT_HEADER, off + SLOT_HEADER + len));
    ring.pos = (ring.pos + 1) | 0;
    ring.consume();
    return { length: len };
  }

  #checkBuffer(buffer: Uint8Array, op: string): void {
    if (!(buffer instanceof Uint8Array) || buffer.length < this.messageSize) {
      throw invalidArgument(
        op,
        this.name,
        `the buffer must be a Uint8Array of at least messageSize (${this.messageSize}) bytes`,
      );
    }
  }

  /** Copies the next message into `buffer` (≥ `messageSize` bytes): `{ length }`, or `null`. */
  tryReceiveInto(buffer: Uint8Array): { length: number } | null {
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    this.#checkBuffer(buffer, "receive");
    return this.#into(buffer) ?? this.#ring.nothingNow(() => this.#into(buffer));
  }

  /** Waits for the next message and copies it into `buffer` without allocating a message. */
  async receiveInto(buffer: Uint8Array, options?: WaitOptions): Promise<{ length: number }> {
    const deadline = startWait(options, "receive", this.name);
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    this.#checkBuffer(buffer, "receive");
    const r = this.#into(buffer);
    if (r !== null) return r;
    return await waitFor(this, this.#ring, () => {
      live(this, "receive");
      return this.#into(buffer);
    }, deadline);
  }

  #each(visit: MessageVisitor, max: number): number | null {
    const ring = this.#ring;
    const n = Math.min(ring.available(), max);
    if (n === 0) return null;
    const u8 = ring.u8;
    let i = 0;
    try {
      for (; i < n; i++) {
        const off = ring.slot(ring.pos);
        visit(u8, off + SLOT_HEADER, ring.lengthAt(off));
        ring.pos = (ring.pos + 1) | 0;
      }
    } finally {
      if (i > 0) ring.consume();
    }
    return n;
  }

  /**
   * Hands each waiting message (up to `max`) to `visit` in place, without
   * copying or allocating: `visit(bytes, offset, length)` where `bytes` is
   * the whole ring and must not be kept. Frees the slots once, after the
   * batch: the count visited, or `null` if none was waiting.
   */
  tryReceiveEach(visit: MessageVisitor, max?: number): number | null {
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    const m = checkMax(max, "receive", this.name);
    return this.#each(visit, m) ?? this.#ring.nothingNow(() => this.#each(visit, m));
  }

  /** Waits for at least one message, then visits all waiting (up to `max`) in place. */
  async receiveEach(visit: MessageVisitor, options?: ReceiveManyOptions): Promise<number> {
    const deadline = startWait(options, "receive", this.name);
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    const max = checkMax(options?.max, "receive", this.name);
    const n = this.#each(visit, max);
    if (n !== null) return n;
    return await waitFor(this, this.#ring, () => {
      live(this, "receive");
      return this.#each(visit, max);
    }, deadline);
  }

  #many(max: number): Message[] | null {
    const out: Message[] = [];
    const n = this.#each((u8, off, len) => out.push(new Message(u8.slice(off, off + len))), max);
    return n === null ? null : out;
  }

  /** Every waiting message (up to `max`), copied, or `null` if none. */
  tryReceiveMany(max?: number): Message[] | null {
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    const m = checkMax(max, "receive", this.name);
    return this.#many(m) ?? this.#ring.nothingNow(() => this.#many(m));
  }

  /** Waits for at least one message, then returns every waiting one (up to `max`). */
  async receiveMany(options?: ReceiveManyOptions): Promise<Message[]> {
    const deadline = startWait(options, "receive", this.name);
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    const max = checkMax(options?.max, "receive", this.name);
    const r = this.#many(max);
    if (r !== null) return r;
    return await waitFor(this, this.#ring, () => {
      live(this, "receive");
      return this.#many(max);
    }, deadline);
  }

  #view(): Uint8Array<ArrayBuffer> | null {
    const ring = this.#ring;
    if (ring.available() === 0) return null;
    const off = ring.slot(ring.pos);
    const len = ring.lengthAt(off);
    ring.pending = true;
    return ring.u8.subarray(off + SLOT_HEADER, off + SLOT_HEADER + len);
  }

  /**
   * The next message in place (a view into the shared ring, valid until
   * {@linkcode ChannelReceiver.release}), or `null` if none is waiting.
   */
  tryReceiveView(): Uint8Array<ArrayBuffer> | null {
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    return this.#view() ?? this.#ring.nothingNow(() => this.#view());
  }

  /** Waits for the next message and returns it in place (see {@linkcode ChannelReceiver.tryReceiveView}). */
  async receiveView(options?: WaitOptions): Promise<Uint8Array<ArrayBuffer>> {
    const deadline = startWait(options, "receive", this.name);
    live(this, "receive");
    notPending(this, this.#ring, "receive");
    const v = this.#view();
    if (v !== null) return v;
    return await waitFor(this, this.#ring, () => {
      live(this, "receive");
      return this.#view();
    }, deadline);
  }

  /** Frees the slot of the message returned by `receiveView`/`tryReceiveView`. */
  release(): void {
    live(this, "release");
    const ring = this.#ring;
    if (!ring.pending) throw invalidArgument("release", this.name, "no message is being viewed");
    ring.pending = false;
    ring.pos = (ring.pos + 1) | 0;
    ring.consume();
  }

  /**
   * Every message until the sender closes (the iteration then ends) or
   * `signal` aborts. A sender that dies without closing ends it with EPIPE.
   */
  async *messages(options: { signal?: AbortSignal } = {}): AsyncGenerator<Message> {
    const { signal } = optionsObject(options, "receive", this.name);
    for (;;) {
      let m: Message;
      try {
        m = await this.receive({ signal });
      } catch (e) {
        if ((e as IpcError).code === "EPIPE" && !this.closed && this.#ring.peerClosed()) return;
        throw e;
      }
      yield m;
    }
  }
}
