/**
 * The byte-moving parts of `ipckit sock`: stdin to a socket and a socket to
 * stdout, streamed in bounded chunks (one reused buffer, each chunk written
 * out before the next is read), and the shared flags.
 *
 * @module
 */
import { concatBytes } from "../_bytes.ts";
import type { SocketType, UnixSocket } from "../socket.ts";
import type { Context } from "./_common.ts";
import { UsageError } from "./_common.ts";

/** Chunk size for streaming: large enough for throughput, small enough for memory. */
export const CHUNK = 1024 * 1024;

const encoder = new TextEncoder();
const NL = 10;

/** `--type`: stream (default), dgram or seqpacket. */
export function socketType(value: unknown): SocketType {
  const t = value === undefined ? "stream" : String(value);
  if (t !== "stream" && t !== "dgram" && t !== "seqpacket") {
    throw new UsageError(`--type must be stream, dgram or seqpacket, got "${t}"`);
  }
  return t;
}

/** Flags every `sock` verb takes. */
export const addressFlags = {
  abstract: { type: "boolean" },
  "pad-abstract": { type: "boolean" },
  type: { type: "string" },
} as const;

/**
 * Copies stdin to a stream socket chunk by chunk, then shuts down writing;
 * `timeout` (ms) bounds each wait for room.
 */
export async function stdinToStream(
  ctx: Context,
  sock: UnixSocket,
  timeout?: number,
): Promise<void> {
  const reader = ctx.stdin.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      await sock.writeAll(value, { timeout });
    }
  } finally {
    reader.releaseLock();
  }
  sock.shutdown("write");
}

/** Sends each line of stdin as one message (dgram, seqpacket); `timeout` (ms) bounds each wait. */
export async function stdinToMessages(
  ctx: Context,
  sock: UnixSocket,
  timeout?: number,
): Promise<void> {
  for await (const line of ctx.stdinLines()) await sock.send(encoder.encode(line), { timeout });
}

/**
 * Copies a stream socket to stdout until the peer ends, through one reused
 * buffer: each chunk is written out before the next is received.
 */
export async function streamToStdout(ctx: Context, sock: UnixSocket, buf: Uint8Array) {
  for (;;) {
    const got = await sock.receiveInto(buf, { maxFds: 253 });
    for (const f of got.fds) f.close();
    if (got.end) return;
    await ctx.write(buf.subarray(0, got.length));
  }
}

/** Prints each message received as one line until the peer ends (seqpacket) or forever (dgram). */
export async function messagesToStdout(
  ctx: Context,
  sock: UnixSocket,
  messageSize: number,
): Promise<void> {
  for (;;) {
    const msg = await sock.receive({ messageSize, maxFds: 253 });
    for (const f of msg.fds) f.close();
    if (msg.end) return;
    await ctx.write(withNewline(msg.bytes));
  }
}

/** The bytes plus a newline unless they end with one. */
export function withNewline(bytes: Uint8Array): Uint8Array {
  if (bytes.length && bytes[bytes.length - 1] === NL) return bytes;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = NL;
  return out;
}

/**
 * Splits a byte stream into lines without decoding it chunk by chunk:
 * `push(bytes)` returns the complete lines so far (without `\n`), `rest()`
 * the unterminated tail.
 */
export class LineSplitter {
  #pending: Uint8Array[] = [];

  /** The complete lines in `bytes` (joined with what came before). */
  push(bytes: Uint8Array): Uint8Array[] {
    const lines: Uint8Array[] = [];
    let start = 0;
    for (let i = bytes.indexOf(NL); i >= 0; i = bytes.indexOf(NL, start)) {
      lines.push(this.#join(bytes.subarray(start, i)));
      start = i + 1;
    }
    if (start < bytes.length) this.#pending.push(bytes.slice(start));
    return lines;
  }

  /** What is left after the last newline, or `null`. */
  rest(): Uint8Array | null {
    if (this.#pending.length === 0) return null;
    return this.#join(new Uint8Array(0));
  }

  #join(tail: Uint8Array): Uint8Array {
    if (this.#pending.length === 0) return tail.slice();
    return concatBytes([...this.#pending.splice(0), tail]);
  }
}
