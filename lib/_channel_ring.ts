/**
 * The channel's data path: one end (sender or receiver) of a single-producer
 * single-consumer ring in a {@linkcode Mapping}, read and written straight
 * through typed arrays and `Atomics`, with no FFI call per message. FFI is
 * used only to sleep (a non-blocking `FUTEX_WAIT` on Deno's pool) and to wake
 * a peer that said it sleeps (`FUTEX_WAKE`).
 *
 * Memory ordering: JS `Atomics` are sequentially consistent. The sender
 * writes the payload and the length with plain stores, then publishes
 * `tail` with `Atomics.store`; the receiver reads `tail` with `Atomics.load`
 * before reading the slot with plain loads, and publishes `head` with
 * `Atomics.store` only after it is done with the slot. `Atomics` builtins are
 * calls V8 does not move plain accesses across. A sender killed mid-write has
 * not published `tail`, so a torn message is never seen.
 *
 * Sleeping without lost wake-ups (Dekker, both sides seq-cst): a side about
 * to sleep stores its sleep word (`0x80000000 | position it saw`), re-reads
 * the watched position and sleeps with `FUTEX_WAIT` on that position's word
 * only if it is unchanged (the kernel re-checks it atomically). The other
 * side publishes its position, then reads the sleep word; if it is set for
 * an older position it clears it (CAS, so a newer sleep is never cleared) and
 * wakes every waiter on the word.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { futex } from "../ffi/futex.ts";
import { type IpcError, ipcError, trySys } from "./_errors.ts";
import type { Mapping } from "./_mapping.ts";
import { CLOSED, HEADER_SIZE, IDX, sleepWord, SLOT_HEADER } from "./_channel_layout.ts";

/** Which end of a channel a handle is. */
export type ChannelEnd = "send" | "receive";

/** Visits one message in place: `bytes` is the whole ring, the payload is `[offset, offset + length)`. */
export type MessageVisitor = (
  bytes: Uint8Array<ArrayBuffer>,
  offset: number,
  length: number,
) => void;

/** Geometry read from (and checked against) the header. */
export interface Geometry {
  capacity: number;
  slotSize: number;
  messageSize: number;
}

const PEER_CHECK_MS = 20;

let sysFutex: bigint | undefined;
function SYS_FUTEX(): bigint {
  return sysFutex ??= BigInt(futex().SYS_futex);
}

/** One end of the ring. Internal: `Channel` wraps it. */
export class Ring {
  readonly i32: Int32Array<ArrayBuffer>;
  readonly u8: Uint8Array<ArrayBuffer>;
  readonly capacity: number;
  readonly mask: number;
  readonly slotSize: number;
  readonly messageSize: number;
  readonly end: ChannelEnd;
  readonly name: string;
  readonly mapping: Mapping;
  /** Our own position (tail for the sender, head for the receiver): only we write it. */
  pos: number;
  /** Last seen peer position (head for the sender, tail for the receiver). */
  peer: number;
  /** A reserved slot (sender) or a viewed message (receiver) not yet committed/released. */
  pending = false;
  #lastPeerCheck = 0;
  readonly #wakeWatched: Deno.PointerObject;
  readonly #wakePeerWord: Deno.PointerObject;

  constructor(mapping: Mapping, geometry: Geometry, end: ChannelEnd, name: string) {
    this.mapping = mapping;
    const buf = mapping.buffer("channel");
    this.i32 = new Int32Array(buf);
    this.u8 = new Uint8Array(buf);
    this.capacity = geometry.capacity;
    this.mask = geometry.capacity - 1;
    this.slotSize = geometry.slotSize;
    this.messageSize = geometry.messageSize;
    this.end = end;
    this.name = name;
    const send = end === "send";
    this.pos = Atomics.load(this.i32, send ? IDX.tail : IDX.head);
    this.peer = Atomics.load(this.i32, send ? IDX.head : IDX.tail);
    // Addresses for FUTEX_WAKE: the word we publish (the peer sleeps on it).
    const base = Deno.UnsafePointer.of(buf)!;
    this.#wakePeerWord = Deno.UnsafePointer.offset(base, 4 * (send ? IDX.tail : IDX.head))!;
    this.#wakeWatched = Deno.UnsafePointer.offset(base, 4 * (send ? IDX.head : IDX.tail))!;
  }

  /** Byte offset of the slot for position `p`. */
  slot(p: number): number {
    return HEADER_SIZE + (p & this.mask) * this.slotSize;
  }

  // ---- sender ----

  /** Free slots as last seen, refreshing `head` only when the cached view says full. */
  free(): number {
    let free = this.capacity - ((this.pos - this.peer) | 0);
    if (free > 0) return free;
    this.peer = Atomics.load(this.i32, IDX.head);
    const used = (this.pos - this.peer) | 0;
    if (used < 0 || used > this.capacity) throw this.corrupt(`head ${this.peer}, tail ${this.pos}`);
    free = this.capacity - used;
    return free;
  }

  /** Writes `message` into the next slot without publishing it. */
  put(message: Uint8Array): void {
    const off = this.slot(this.pos);
    this.u8.set(message, off + SLOT_HEADER);
    this.i32[off >> 2] = message.length;
    this.pos = (this.pos + 1) | 0;
  }

  /** Publishes the slots written so far and wakes a sleeping receiver. */
  publish(): void {
    Atomics.store(this.i32, IDX.tail, this.pos);
    this.wakePeer(IDX.receiverSleep);
  }

  /** Throws EPIPE if the receiver left (sends to nobody would be lost). */
  checkReceiver(): void {
    if ((this.i32[IDX.closed] & CLOSED.receive) !== 0) throw this.gone("the receiver closed");
  }

  // ---- receiver ----

  /** Messages available as last seen, refreshing `tail` only when the cached view says empty. */
  available(): number {
    let n = (this.peer - this.pos) | 0;
    if (n > 0) return n;
    this.peer = Atomics.load(this.i32, IDX.tail);
    n = (this.peer - this.pos) | 0;
    if (n < 0 || n > this.capacity) throw this.corrupt(`head ${this.pos}, tail ${this.peer}`);
    return n;
  }

  /** Length of the message at our position, checked against the message size. */
  lengthAt(off: number): number {
    const len = this.i32[off >> 2];
    if (len < 0 || len > this.messageSize) throw this.corrupt(`message length ${len}`);
    return len;
  }

  /** Frees the slots read so far and wakes a sleeping sender. */
  consume(): void {
    Atomics.store(this.i32, IDX.head, this.pos);
    this.wakePeer(IDX.senderSleep);
  }

  // ---- both ----

  /** Wakes the peer if its sleep word says it sleeps at a position older than ours. */
  wakePeer(sleepIdx: number): void {
    let word = Atomics.load(this.i32, sleepIdx);
    if (word === 0) return;
    const mine = sleepWord(this.pos);
    while (word !== 0 && word !== mine) {
      const seen = Atomics.compareExchange(this.i32, sleepIdx, word, 0);
      if (seen === word) {
        libc().futex_wake(
          SYS_FUTEX(),
          this.#wakePeerWord,
          futex().FUTEX_WAKE,
          0x7fffffff,
          null,
          null,
          0,
        );
        return;
      }
      word = seen;
    }
  }

  /** Wakes anyone sleeping on either position word (on close). */
  wakeAll(): void {
    const F = futex();
    for (const p of [this.#wakePeerWord, this.#wakeWatched]) {
      libc().futex_wake(SYS_FUTEX(), p, F.FUTEX_WAKE, 0x7fffffff, null, null, 0);
    }
  }

  /**
   * Sleeps at most `ms` on the peer's position word, if it is still `seen`
   * after announcing the sleep. A hint only: resolves `null` either way.
   */
  park(ms: number): Promise<null> {
    const send = this.end === "send";
    const watched = send ? IDX.head : IDX.tail;
    const sleepIdx = send ? IDX.senderSleep : IDX.receiverSleep;
    const seen = this.peer;
    Atomics.store(this.i32, sleepIdx, sleepWord(seen));
    if (Atomics.load(this.i32, watched) !== seen || this.peerClosed()) return Promise.resolve(null);
    const pin = this.mapping.pin(watched * 4, 4, "futex");
    const ts = new BigInt64Array([BigInt(Math.floor(ms / 1000)), BigInt((ms % 1000) * 1e6)]);
    const F = futex();
    return libc().futex_wait_nb(SYS_FUTEX(), pin.ptr, F.FUTEX_WAIT, seen, ts, null, 0)
      .then(() => null, () => null)
      .finally(() => pin.unpin());
  }

  /** Clears our sleep word once awake (the peer clears it too when it wakes us). */
  awake(): void {
    if (this.mapping.mapped) {
      Atomics.store(this.i32, this.end === "send" ? IDX.senderSleep : IDX.receiverSleep, 0);
    }
  }

  /** Whether the peer closed its end. */
  peerClosed(): boolean {
    const bit = this.end === "send" ? CLOSED.receive : CLOSED.send;
    return (Atomics.load(this.i32, IDX.closed) & bit) !== 0;
  }

  /**
   * Throws EPIPE if the peer closed or its process is gone; the pid check
   * (a `kill(pid, 0)`) runs at most every 20 ms.
   */
  checkPeer(): void {
    if (this.peerClosed()) {
      throw this.gone(`the ${this.end === "send" ? "receiver" : "sender"} closed`);
    }
    const now = performance.now();
    if (now - this.#lastPeerCheck < PEER_CHECK_MS) return;
    this.#lastPeerCheck = now;
    const pid = Atomics.load(this.i32, this.end === "send" ? IDX.receiverPid : IDX.senderPid);
    if (pid > 0 && !pidAlive(pid)) {
      throw this.gone(`the ${this.end === "send" ? "receiver" : "sender"} (pid ${pid}) is gone`);
    }
  }

  /**
   * What an attempt that found nothing (`null`) ends as: `null` while the
   * peer is there, else EPIPE (see {@linkcode checkPeer}). A receiver that
   * finds its sender gone first runs `attempt` once more: a sender that
   * published its last messages and then closed (or exited) between the
   * attempt and the check has them delivered, not lost behind an EPIPE. (The
   * sender publishes before it sets its closed bit, and both are atomic, so a
   * receiver that sees the bit sees the messages.) A sender never retries: a
   * message sent after the receiver closed would be lost. (Called only
   * after a first attempt failed, so the hot path makes no closure.)
   */
  nothingNow<T>(attempt: () => T | null): T | null {
    try {
      this.checkPeer();
      return null;
    } catch (e) {
      if (this.end === "receive") {
        const late = attempt();
        if (late !== null) return late;
      }
      throw e;
    }
  }

  gone(detail: string): IpcError {
    return ipcError({ code: "EPIPE", syscall: this.end, object: this.name, detail });
  }

  corrupt(detail: string): IpcError {
    return ipcError({
      code: "EPROTO",
      syscall: this.end,
      object: this.name,
      detail: `the channel's shared state is corrupt (${detail})`,
    });
  }
}

/** Whether process `pid` exists (`kill(pid, 0)`: ESRCH means gone; EPERM means alive). */
export function pidAlive(pid: number): boolean {
  try {
    return trySys(() => libc().kill(pid, 0), "kill", pid, undefined, ["ESRCH"]) !== null;
  } catch (e) {
    if ((e as IpcError).code === "EPERM") return true;
    throw e;
  }
}
