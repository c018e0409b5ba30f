/**
 * The channel's shared-memory layout, version 1. `include/ipckit_channel.h`
 * is the same layout in C; `tests/channel_test.ts` checks the two agree on
 * x86_64 and aarch64. All words are 32-bit, native-endian (little-endian on
 * both supported arches), at the byte offsets below:
 *
 * | offset | word | written by |
 * | --- | --- | --- |
 * | 0 | magic `0x4c4e4843` ("CHNL"), stored last at creation | creator |
 * | 4 | version (1) | creator |
 * | 8 | header size (1024): where slot 0 starts | creator |
 * | 12 | capacity: slots, a power of two | creator |
 * | 16 | slot size: bytes per slot, a multiple of 8 | creator |
 * | 20 | message size: largest payload (slot size - 8 or less) | creator |
 * | 24 | flags (0; reserved) | creator |
 * | 32 | sender pid (0: none attached) | sender |
 * | 36 | receiver pid (0: none attached) | receiver |
 * | 40 | closed bits: 1 sender left, 2 receiver left | both (atomic or/and) |
 * | 128 | tail: messages published (free-running, wraps at 2^32) | sender |
 * | 256 | head: messages consumed (free-running) | receiver |
 * | 384 | receiver sleep word: 0, or `0x80000000 \| tail` it sleeps at | receiver sets, sender clears |
 * | 512 | sender sleep word: 0, or `0x80000000 \| head` it sleeps at | sender sets, receiver clears |
 * | 1024 + i × slot size | slot i: u32 length, u32 reserved, payload | sender |
 *
 * tail, head and each sleep word sit on their own 128-byte block, so the
 * two sides never write the same cache line (128 covers the adjacent-line
 * prefetch on x86 and the 128-byte lines of some arm64 cores).
 *
 * @module
 */

/** `"CHNL"` read as a little-endian u32. */
export const MAGIC = 0x4c4e4843;
/** Layout version this code reads and writes. */
export const VERSION = 1;
/** Bytes before slot 0. */
export const HEADER_SIZE = 1024;
/** Bytes before each slot's payload (u32 length, u32 reserved). */
export const SLOT_HEADER = 8;
/** Largest capacity in slots. */
export const MAX_CAPACITY = 1 << 24;

/** Byte offsets of the header words. */
export const OFF = {
  magic: 0,
  version: 4,
  headerSize: 8,
  capacity: 12,
  slotSize: 16,
  messageSize: 20,
  flags: 24,
  senderPid: 32,
  receiverPid: 36,
  closed: 40,
  tail: 128,
  head: 256,
  receiverSleep: 384,
  senderSleep: 512,
} as const;

/** `OFF` as `Int32Array` indices. */
export const IDX = Object.fromEntries(
  Object.entries(OFF).map(([k, v]) => [k, v / 4]),
) as { readonly [K in keyof typeof OFF]: number };

/** Closed bit of each end. */
export const CLOSED = { send: 1, receive: 2 } as const;

/** The sleep word for a side that sleeps while the watched position is `pos`. */
export function sleepWord(pos: number): number {
  return (pos | 0x80000000) | 0;
}

/** Slot size for a message size: the payload plus its header, rounded up to 8. */
export function slotSizeFor(messageSize: number): number {
  return (messageSize + SLOT_HEADER + 7) & ~7;
}

/** Total bytes of a channel with `capacity` slots of `slotSize` bytes. */
export function channelBytes(capacity: number, slotSize: number): number {
  return HEADER_SIZE + capacity * slotSize;
}
