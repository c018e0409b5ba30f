/**
 * Channel benchmarks: ipckit's shared-memory channel between two Deno
 * processes against the same ring (include/ipckit_channel.h) between two C
 * processes, compiled in this run (bench/c/channel_ring.c), plus memcpy
 * bandwidth and ipckit's pipe for scale. Run: `deno task bench channel`.
 *
 * Goals (issue 13): 64 B streaming ≥ 5 M msg/s; 64 KiB streaming ≥ 0.5×
 * memcpy; busy-poll ping-pong within 3× of C; ping-pong with sleeping within
 * 2× of C's futex ping-pong. Kept short: this may run on a shared machine.
 *
 * @module
 */
import { type Bench, compileC, median, type Row, run, runDeno } from "./_harness.ts";

const RUNS = 3;
const STREAM = 3_000_000;
const BIG = 20_000;
const ROUNDS = 5000;
const peer = "./channel_peer.ts";

const first = (s: string) => Number(s.split(" ")[0]);
const second = (s: string) => Number(s.split(" ")[1]);

/** Runs the channel benchmark. */
export const channelBench: Bench = async (): Promise<Row[]> => {
  const c = await compileC("channel_ring");
  const rows: Row[] = [
    {
      mechanism: "channel",
      case: `64 B stream, ${
        STREAM / 1e6
      } M msgs, Deno → Deno (sendMany/receiveEach); goal ≥ 5 M msg/s`,
      kind: "rate",
      c: await median(RUNS, async () => first(await run(c, ["stream", String(STREAM), "64"]))),
      ipckit: await median(
        RUNS,
        async () => first(await runDeno(peer, ["stream", String(STREAM), "64"])),
      ),
    },
    {
      mechanism: "channel",
      case:
        "64 KiB stream, Deno → Deno (sendMany/receiveEach, copied out) vs memcpy of 64 KiB blocks",
      kind: "throughput",
      c: await median(RUNS, async () => Number(await run(c, ["memcpy", "65536", String(2 ** 30)]))),
      ipckit: await median(
        RUNS,
        async () => second(await runDeno(peer, ["stream", String(BIG), "65536"])),
      ),
      goal: 2,
    },
    {
      mechanism: "channel",
      case: "64 KiB stream, Deno → Deno vs the C ring C → C",
      kind: "throughput",
      c: await median(RUNS, async () => second(await run(c, ["stream", String(BIG), "65536"]))),
      ipckit: await median(
        RUNS,
        async () => second(await runDeno(peer, ["stream", String(BIG), "65536"])),
      ),
    },
    {
      mechanism: "channel",
      case: "64 B ping-pong round trip, both sides busy-polling",
      kind: "time",
      c: await median(RUNS, async () => Number(await run(c, ["pingpong", String(ROUNDS), "busy"]))),
      ipckit: await median(
        RUNS,
        async () => Number(await runDeno(peer, ["pingpong", String(ROUNDS), "busy"])),
      ),
      goal: 3,
    },
    {
      mechanism: "channel",
      case: "64 B ping-pong round trip, send()/receive() (spin, then futex) vs C futex",
      kind: "time",
      c: await median(
        RUNS,
        async () => Number(await run(c, ["pingpong", String(ROUNDS), "park"])),
      ),
      ipckit: await median(
        RUNS,
        async () => Number(await runDeno(peer, ["pingpong", String(ROUNDS), "wait"])),
      ),
      goal: 2,
    },
  ];
  try {
    const pipe = await median(
      RUNS,
      async () => Number(await runDeno("./pipe_worker.ts", ["ipckit-pingpong", String(ROUNDS)])),
    );
    rows.push({
      mechanism: "channel",
      case: "for scale: ipckit pipe 64 B ping-pong vs the C channel's futex ping-pong",
      kind: "time",
      c: rows[4].c,
      ipckit: pipe,
    });
  } catch (e) {
    console.error(`pipe comparison skipped: ${e}`);
  }
  return rows;
};
