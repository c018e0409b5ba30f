/**
 * The shared-memory channel (issue 13) in the interleaved benchmark: its
 * own peers (bench/channel_peer.ts and the C ring bench/c/channel_ring.c)
 * run as programs.
 *
 * @module
 */
import { type Case, compileC, denoNumber, run, runDeno, runNumber } from "./_harness.ts";

/** Messages a channel stream of `size` bytes sends: about 64 MiB, 2 000 to 1 000 000. */
export function channelCount(size: number): number {
  return Math.max(2000, Math.min(1_000_000, Math.round(64 * 2 ** 20 / size)));
}

/** One channel stream, C ring to C ring or Deno to Deno: MiB/s. */
export async function channelStream(who: "c" | "ipckit", size: number): Promise<number> {
  const args = ["stream", String(channelCount(size)), String(size)];
  const out = who === "c"
    ? await run(await compileC("channel_ring"), args)
    : await runDeno("./channel_peer.ts", args);
  const mibs = Number(out.split("\n").pop()!.split(" ")[1]);
  if (!Number.isFinite(mibs)) throw new Error(`channel stream printed ${out}`);
  return mibs;
}

/** The channel cases. */
export function channelCases(): Promise<Case[]> {
  const rounds = "5000";
  const pingpong = (who: "c" | "ipckit", mode: string) => async () =>
    who === "c"
      ? runNumber(await compileC("channel_ring"), ["pingpong", rounds, mode])
      : denoNumber("./channel_peer.ts", ["pingpong", rounds, mode === "park" ? "wait" : mode]);
  return Promise.resolve([
    {
      mechanism: "channel",
      case: "stream of 64 B messages, Deno → Deno vs the C ring C → C",
      kind: "throughput",
      c: () => channelStream("c", 64),
      ipckit: () => channelStream("ipckit", 64),
    },
    {
      mechanism: "channel",
      case: "stream of 64 KiB messages, Deno → Deno vs the C ring C → C",
      kind: "throughput",
      c: () => channelStream("c", 65536),
      ipckit: () => channelStream("ipckit", 65536),
    },
    {
      mechanism: "channel",
      case: "64 B ping-pong, both sides busy-polling",
      kind: "time",
      c: pingpong("c", "busy"),
      ipckit: pingpong("ipckit", "busy"),
      goal: 3,
    },
    {
      mechanism: "channel",
      case: "64 B ping-pong, send()/receive() (spin, then futex) vs C futex",
      kind: "time",
      c: pingpong("c", "park"),
      ipckit: pingpong("ipckit", "wait"),
      goal: 2,
    },
  ]);
}
