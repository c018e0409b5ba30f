/**
 * What both ends of a channel share: the descriptor and mapping they own,
 * attaching (the pid word), closing, waiting, and status.
 *
 * @module
 */
import { objectOf } from "./_validate.ts";
import { closedError, invalidArgument, ipcError } from "./_errors.ts";
import type { Descriptor } from "./fd.ts";
import { type Deadline, spinnerFor, untilAcquired } from "./wait.ts";
import { type ChannelMemory, unlinkChannel } from "./_channel_open.ts";
import { CLOSED, IDX } from "./_channel_layout.ts";
import { type ChannelEnd, pidAlive, Ring } from "./_channel_ring.ts";
import { libc } from "../ffi/libc.ts";

/** A snapshot of a channel's shared state. */
export interface ChannelStatus {
  /** Slots in the ring. */
  capacity: number;
  /** Largest message in bytes. */
  messageSize: number;
  /** Bytes per slot (message size plus an 8-byte slot header, rounded to 8). */
  slotSize: number;
  /** Messages waiting to be received. */
  fill: number;
  /** Messages ever published (the sender's position, wraps at 2^32). */
  tail: number;
  /** Messages ever received (the receiver's position, wraps at 2^32). */
  head: number;
  /** Pid of the attached sender, or 0. */
  senderPid: number;
  /** Pid of the attached receiver, or 0. */
  receiverPid: number;
  /** Whether the sender's process runs (false when none is attached). */
  senderAlive: boolean;
  /** Whether the receiver's process runs. */
  receiverAlive: boolean;
  /** Whether the sender is asleep waiting for space. */
  senderWaiting: boolean;
  /** Whether the receiver is asleep waiting for messages. */
  receiverWaiting: boolean;
  /** Whether the sender closed its end. */
  senderClosed: boolean;
  /** Whether the receiver closed its end. */
  receiverClosed: boolean;
}

/** Reads a {@linkcode ChannelStatus} from the words of a mapped channel. */
export function readStatus(i32: Int32Array, messageSize: number): ChannelStatus {
  const tail = Atomics.load(i32, IDX.tail);
  const head = Atomics.load(i32, IDX.head);
  const senderPid = Atomics.load(i32, IDX.senderPid);
  const receiverPid = Atomics.load(i32, IDX.receiverPid);
  const closed = Atomics.load(i32, IDX.closed);
  return {
    capacity: i32[IDX.capacity],
    messageSize,
    slotSize: i32[IDX.slotSize],
    fill: (tail - head) | 0,
    tail: tail >>> 0,
    head: head >>> 0,
    senderPid,
    receiverPid,
    senderAlive: senderPid > 0 && pidAlive(senderPid),
    receiverAlive: receiverPid > 0 && pidAlive(receiverPid),
    senderWaiting: Atomics.load(i32, IDX.senderSleep) !== 0,
    receiverWaiting: Atomics.load(i32, IDX.receiverSleep) !== 0,
    senderClosed: (closed & CLOSED.send) !== 0,
    receiverClosed: (closed & CLOSED.receive) !== 0,
  };
}

/** The token that makes channel handles: the factory functions' only. */
export const CHANNEL: unique symbol = Symbol("ipckit.Channel");

/**
 * One end of a channel: owns the descriptor and the mapping. Made by
 * `createChannel`, `openChannel`, `createChannelMemfd`, `openChannelFd`;
 * `ChannelSender` and `ChannelReceiver` are its two kinds.
 *
 * @example
 * ```ts
 * import { createChannelMemfd } from "@ipckit/ipckit/channel";
 * using rx = createChannelMemfd("receive", { capacity: 8, messageSize: 64 });
 * console.log(rx.end, rx.capacity, rx.status().fill); // receive 8 0
 * ```
 */
export class ChannelHandle implements Disposable {
  /** The channel's name (`"/jobs"`), or `"memfd:ipckit-channel"` / `"fd N"`. */
  readonly name: string;
  /** Which end this handle is. */
  readonly end: ChannelEnd;
  /** Slots in the ring: how many messages it holds. */
  readonly capacity: number;
  /** Largest message in bytes. */
  readonly messageSize: number;
  readonly #descriptor: Descriptor;
  readonly #posix: boolean;
  readonly #ring: Ring;

  /** Attaches `end` to `memory`. Internal: use the factory functions. */
  constructor(token: typeof CHANNEL, memory: ChannelMemory, end: ChannelEnd, posix: boolean) {
    if (token !== CHANNEL) {
      throw invalidArgument(
        "ChannelHandle",
        objectOf(memory),
        "use createChannel, openChannel, createChannelMemfd or openChannelFd",
      );
    }
    this.name = memory.name;
    this.end = end;
    this.capacity = memory.geometry.capacity;
    this.messageSize = memory.geometry.messageSize;
    this.#descriptor = memory.descriptor;
    this.#posix = posix;
    try {
      this.#ring = new Ring(memory.mapping, memory.geometry, end, memory.name);
      attach(this.#ring, end);
      rings.set(this, this.#ring);
    } catch (e) {
      memory.mapping.unmap();
      memory.descriptor.close();
      throw e;
    }
  }

  /** The descriptor, e.g. to hand a memfd channel to a child (`withInheritedFds`). */
  get handle(): Descriptor {
    live(this, "handle");
    return this.#descriptor;
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#descriptor.closed;
  }

  /** A snapshot of the shared state (fill, positions, peers, waiters). */
  status(): ChannelStatus {
    live(this, "status");
    return readStatus(this.#ring.i32, this.messageSize);
  }

  /** Removes the channel's name (`shm_unlink`); open handles keep working. */
  remove(): void {
    if (!this.#posix) {
      throw invalidArgument("shm_unlink", this.name, "a memfd channel has no name to remove");
    }
    unlinkChannel(this.name);
  }

  /**
   * Detaches this end (the peer's waits then end with EPIPE once the ring
   * is drained), wakes the peer, unmaps and closes. Idempotent.
   */
  close(): void {
    if (this.#descriptor.closed) return;
    const ring = this.#ring;
    if (ring.mapping.mapped) {
      const pidIdx = this.end === "send" ? IDX.senderPid : IDX.receiverPid;
      Atomics.compareExchange(ring.i32, pidIdx, libc().getpid(), 0);
      Atomics.or(ring.i32, IDX.closed, CLOSED[this.end]);
      ring.wakeAll();
      ring.mapping.unmap();
    }
    this.#descriptor.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

const rings = new WeakMap<ChannelHandle, Ring>();

/** The data path of a handle (its subclasses keep it in a field). */
export function ringOf(handle: ChannelHandle): Ring {
  return rings.get(handle)!;
}

/** Throws `BadResource` (EBADF) once closed. */
export function live(handle: ChannelHandle, op: string): void {
  if (handle.closed) throw closedError(op, handle.name);
}

/**
 * Waits for `attempt` (spinning briefly, then parking on a futex in
 * slices), with the peer checked whenever it would wait.
 */
export function waitFor<T>(
  handle: ChannelHandle,
  ring: Ring,
  attempt: () => T | null,
  deadline: Deadline,
): Promise<T> {
  const tryOnce = () => attempt() ?? ring.nothingNow(attempt);
  return untilAcquired(
    { attempt: tryOnce, park: (ms) => ring.park(ms) },
    deadline,
    spinnerFor(handle),
  ).finally(() => ring.awake());
}

/** Throws EINVAL for a call made while a reserved slot or a viewed message is pending. */
export function notPending(handle: ChannelHandle, ring: Ring, op: string): void {
  if (ring.pending) {
    throw invalidArgument(
      op,
      handle.name,
      handle.end === "send"
        ? "a reserved slot is not committed yet: call commit() first"
        : "a viewed message is not released yet: call release() first",
    );
  }
}

/** Records this process as `end`, taking over from a dead one; EBUSY if a live one holds it. */
function attach(ring: Ring, end: ChannelEnd): void {
  const idx = end === "send" ? IDX.senderPid : IDX.receiverPid;
  const me = libc().getpid();
  for (;;) {
    const old = Atomics.compareExchange(ring.i32, idx, 0, me);
    if (old === 0) break;
    if (old !== me && pidAlive(old)) {
      throw ipcError({
        code: "EBUSY",
        syscall: "open",
        object: ring.name,
        detail: `the channel already has a ${end === "send" ? "sender" : "receiver"} (pid ${old})`,
        hint: "a channel has one sender and one receiver",
      });
    }
    if (old === me) {
      throw ipcError({
        code: "EBUSY",
        syscall: "open",
        object: ring.name,
        detail: `this process already holds the ${end === "send" ? "sending" : "receiving"} end`,
      });
    }
    // The holder died without closing: take its place.
    if (Atomics.compareExchange(ring.i32, idx, old, me) === old) break;
  }
  Atomics.and(ring.i32, IDX.closed, ~CLOSED[end]);
  const send = end === "send";
  ring.pos = Atomics.load(ring.i32, send ? IDX.tail : IDX.head);
  ring.peer = Atomics.load(ring.i32, send ? IDX.head : IDX.tail);
}
