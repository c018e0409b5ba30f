/**
 * Scaling curves: streaming throughput by message size (C against ipckit,
 * interleaved), and wake-up latency and CPU by number of concurrent waiters
 * (bench/waiters.ts).
 *
 * @module
 */
import { channelStream } from "./channel_cases.ts";
import {
  type Case,
  compileC,
  denoNumber,
  type RatioSeries,
  runCases,
  runDeno,
  runNumber,
  type Series,
  series,
} from "./_harness.ts";
import { streamCount } from "./pipe_bench.ts";

/** One point of a message-size curve. */
export interface SizePoint {
  mechanism: string;
  size: number;
  c: Series;
  ipckit: Series;
  ratio: RatioSeries;
}

/** One point of the concurrent-waiter curve. */
export interface WaiterPoint {
  waiters: number;
  /** Median wake-up latency of each run, µs. */
  p50: Series;
  /** 90th percentile wake-up latency of each run, µs. */
  p90: Series;
  /** CPU time (all threads) per wake-up of each run, µs. */
  cpu: Series;
}

function procInt(path: string, fallback: number): number {
  try {
    return Number(Deno.readTextFileSync(path).trim()) || fallback;
  } catch {
    return fallback;
  }
}

/** The sizes measured for each mechanism: powers of 4 from 16 B, up to the mechanism's limit. */
export function sizesOf(mechanism: string): number[] {
  const max = mechanism === "channel"
    ? 65536 // the channel benchmark peer sizes its ring for up to 64 KiB messages
    : mechanism === "mq"
    ? procInt("/proc/sys/fs/mqueue/msgsize_max", 8192)
    : mechanism === "sysv"
    ? Math.min(procInt("/proc/sys/kernel/msgmax", 8192), procInt("/proc/sys/kernel/msgmnb", 16384))
    : 2 ** 20;
  const out: number[] = [];
  for (let s = 16; s <= max; s *= 4) out.push(s);
  if (out.at(-1) !== max && max <= 2 ** 20) out.push(max);
  return out;
}

/**
 * Streaming throughput by message size: every point is a {@linkcode Case}
 * measured by `runCases` (interleaved, `runs` rounds, stopping at `until`),
 * with the same message counts as the streaming cases of the table
 * (`streamCount`), so a size gives the same ratio in both.
 */
export async function sizeCurves(
  mechanisms: string[],
  runs: number,
  progress?: (line: string) => void,
  until?: number,
): Promise<SizePoint[]> {
  const bin = await compileC("stream");
  const cases: Case[] = [];
  const points: { mechanism: string; size: number }[] = [];
  for (const mechanism of mechanisms) {
    for (const size of sizesOf(mechanism)) {
      const args = [mechanism, String(size), String(streamCount(size))];
      cases.push({
        mechanism: `sizes ${mechanism}`,
        case: `${size} B`,
        kind: "throughput",
        ...(mechanism === "channel"
          ? { c: () => channelStream("c", size), ipckit: () => channelStream("ipckit", size) }
          : {
            c: () => runNumber(bin, args),
            ipckit: () => denoNumber("./stream_worker.ts", args),
          }),
      });
      points.push({ mechanism, size });
    }
  }
  const results = await runCases(cases, { runs, progress, until });
  return results.map((r, i) => ({ ...points[i], c: r.c, ipckit: r.ipckit, ratio: r.ratio }));
}

/** Wake-up latency and CPU by number of concurrent waiters, `runs` runs per point. */
export async function waiterCurve(
  counts: number[],
  runs: number,
  progress?: (line: string) => void,
): Promise<WaiterPoint[]> {
  const points: WaiterPoint[] = [];
  for (const n of counts) {
    const p50: number[] = [], p90: number[] = [], cpu: number[] = [];
    for (let r = 0; r < runs; r++) {
      progress?.(`waiters ${n}, run ${r + 1}/${runs}`);
      const out = JSON.parse((await runDeno("./waiters.ts", [String(n)])).split("\n").pop()!);
      p50.push(out.p50);
      p90.push(out.p90);
      cpu.push(out.cpu);
    }
    points.push({ waiters: n, p50: series(p50), p90: series(p90), cpu: series(cpu) });
  }
  return points;
}
