/**
 * Shared pieces of the channel tests: fresh names checked for leaks, the C
 * peer, the Deno child, patterned messages.
 *
 * @module
 */
import { deepEqual } from "node:assert/strict";
import { removeChannel } from "../lib/channel.ts";
import { buildC, ipcSnapshot, uniqueName } from "./_helpers.ts";

/** The C peer's source under tests/fixtures. */
export const peerSource = "channel_peer.c";
let peer: Promise<string> | undefined;
/** The C peer, built once per test file. */
export const cPeer = (): Promise<string> => peer ??= buildC(peerSource);
/** The Deno child fixture. */
export const child: URL = new URL("./fixtures/channel_child.ts", import.meta.url);

/** Runs `fn` with a fresh channel name and checks nothing is left in /dev/shm. */
export async function withName(fn: (name: string) => Promise<void> | void): Promise<void> {
  const before = ipcSnapshot();
  const name = "/" + uniqueName("ch");
  try {
    await fn(name);
  } finally {
    try {
      removeChannel(name);
    } catch { /* removed by the test */ }
  }
  deepEqual(ipcSnapshot(), before, "IPC objects leaked");
}

/** The errno name of an error. */
export function code(e: unknown): string {
  return (e as { code?: string }).code ?? String(e);
}

/** A patterned message: u32 seq (LE), then byte j = (seq + j) & 0xff. */
export function patterned(seq: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, seq, true);
  for (let j = 4; j < size; j++) b[j] = (seq + j) & 0xff;
  return b;
}
