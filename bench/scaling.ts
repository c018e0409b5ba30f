/**
 * Scaling curves: streaming throughput by message size (C against ipckit,
 * interleaved), and wake-up latency and CPU by number of concurrent waiters
 * (bench/waiters.ts).
 *
 * @module
 */
import { channelStream } from "./channel_cases.ts";
import {
  compileC,
  denoNumber,
  type RatioSeries,
  runDeno,
  runNumber,
  type Series,
  series,
  slowdown,
} from "./_harness.ts";

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

/**
 * Messages sent at `size` bytes: 128 MiB or 100 000 messages, whichever is
 * fewer, but at least 256 MiB or 2048 messages, whichever is fewer (the first
 * quarter warms up, untimed: see `streamCount` in bench/pipe_bench.ts).
 */
function count(size: number): number {
  const mib = (n: number) => Math.round(n * 2 ** 20 / size);
  return Math.max(Math.min(100_000, mib(128)), Math.min(2048, mib(256)));
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

/** Streaming throughput by message size, `runs` interleaved runs per point. */
export async function sizeCurves(
  mechanisms: string[],
  runs: number,
  progress?: (line: string) => void,
): Promise<SizePoint[]> {
  const bin = await compileC("stream");
  const points: SizePoint[] = [];
  for (const mechanism of mechanisms) {
    for (const size of sizesOf(mechanism)) {
      const args = [mechanism, String(size), String(count(size))];
      const measure = mechanism === "channel"
        ? { c: () => channelStream("c", size), ipckit: () => channelStream("ipckit", size) }
        : {
          c: () => runNumber(bin, args),
          ipckit: () => denoNumber("./stream_worker.ts", args),
        };
      const c: number[] = [], ipckit: number[] = [];
      for (let r = 0; r < runs; r++) {
        progress?.(`sizes ${mechanism} ${size} B, run ${r + 1}/${runs}`);
        const cFirst = r % 2 === 0;
        if (cFirst) c.push(await measure.c());
        ipckit.push(await measure.ipckit());
        if (!cFirst) c.push(await measure.c());
      }
      const ratios = series(ipckit.map((v, i) => slowdown("throughput", v, c[i])));
      points.push({
        mechanism,
        size,
        c: series(c),
        ipckit: series(ipckit),
        ratio: { ...ratios, spread: ratios.max / ratios.min },
      });
    }
  }
  return points;
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
