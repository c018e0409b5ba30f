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

const RUNS = 5;
const STREAM = 3_000_000;
const BIG = 20_000;
const ROUNDS = 5000;
const peer = "./channel_peer.ts";

const first = (s: string) => Number(s.split(" ")[0]);

/**
 * Medians of `runs` runs of the C and the ipckit side, interleaved (C, ipckit,
 * C, ...) so that load from other processes on a shared machine drifts into
 * both alike.
 */
async function paired(
  runs: number,
  c: () => Promise<number>,
  ipckit: () => Promise<number>,
): Promise<{ c: number; ipckit: number }> {
  const cs: number[] = [];
  const ds: number[] = [];
  for (let i = 0; i < runs; i++) {
    cs.push(await c());
    ds.push(await ipckit());
  }
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { c: mid(cs), ipckit: mid(ds) };
}
const second = (s: string) => Number(s.split(" ")[1]);

/** Runs the channel benchmark. */
export const channelBench: Bench = async (): Promise<Row[]> => {
  const c = await compileC("channel_ring");
  const num = (p: Promise<string>, pick: (s: string) => number = Number) => p.then(pick);
  const stream64 = await paired(
    RUNS,
    () => num(run(c, ["stream", String(STREAM), "64"]), first),
    () => num(runDeno(peer, ["stream", String(STREAM), "64"]), first),
  );
  const big = await paired(
    RUNS,
    () => num(run(c, ["stream", String(BIG), "65536"]), second),
    () => num(runDeno(peer, ["stream", String(BIG), "65536"]), second),
  );
  const memcpy = await median(RUNS, () => num(run(c, ["memcpy", "65536", String(2 ** 30)])));
  const busy = await paired(
    RUNS,
    () => num(run(c, ["pingpong", String(ROUNDS), "busy"])),
    () => num(runDeno(peer, ["pingpong", String(ROUNDS), "busy"])),
  );
  const parked = await paired(
    RUNS,
    () => num(run(c, ["pingpong", String(ROUNDS), "park"])),
    () => num(runDeno(peer, ["pingpong", String(ROUNDS), "wait"])),
  );
  const rows: Row[] = [
    {
      mechanism: "channel",
      case: `64 B stream, ${STREAM / 1e6} M msgs, Deno → Deno (sendMany/receiveEach) vs C → C; ` +
        "goal ≥ 5 M msg/s",
      kind: "rate",
      ...stream64,
    },
    {
      mechanism: "channel",
      case: "64 KiB stream, Deno → Deno (sendMany/receiveEach, copied out) vs memcpy of 64 KiB",
      kind: "throughput",
      c: memcpy,
      ipckit: big.ipckit,
      goal: 2,
    },
    {
      mechanism: "channel",
      case: "64 KiB stream, Deno → Deno vs the C ring C → C",
      kind: "throughput",
      ...big,
    },
    {
      mechanism: "channel",
      case: "64 B ping-pong round trip, both sides busy-polling",
      kind: "time",
      ...busy,
      goal: 3,
    },
    {
      mechanism: "channel",
      case: "64 B ping-pong round trip, send()/receive() (spin, then futex) vs C futex",
      kind: "time",
      ...parked,
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
