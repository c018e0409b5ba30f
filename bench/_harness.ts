/**
 * Benchmark plumbing. Every mechanism's benchmark module returns
 * {@linkcode Case}s: the same work done by a C baseline compiled in this run,
 * by ipckit and (where one exists) by Deno's built-in equivalent, each as a
 * function that measures once and returns one figure. `bench/main.ts` runs
 * them interleaved and repeated ({@linkcode runCases}) and reports every
 * case's min, median, max and spread (`bench/_report.ts`).
 *
 * @module
 */

/** "time" figures are µs per operation (lower is better); "throughput" figures are MiB/s. */
export type Kind = "time" | "throughput";

/** One measurement: runs the work once and returns its figure. */
export type Measure = () => Promise<number> | number;

/** One benchmark case. */
export interface Case {
  /** Mechanism, e.g. "pipe". */
  mechanism: string;
  /** What is measured, e.g. "64 B ping-pong round trip". */
  case: string;
  kind: Kind;
  /** The C baseline. */
  c: Measure;
  /** ipckit. */
  ipckit: Measure;
  /** Deno's built-in equivalent, if any. */
  deno?: Measure;
  /** Name of the Deno built-in. */
  denoLabel?: string;
  /** Goal: ipckit at most this many times slower than C (median ratio). */
  goal?: number;
  /** Goal: ipckit at least as fast as the Deno built-in (median of paired ratios). */
  goalVsDeno?: boolean;
}

/** Figures of one implementation over all runs, in run order. */
export interface Series {
  /** One figure per run. */
  runs: number[];
  min: number;
  median: number;
  max: number;
}

/** Ratio of one implementation against C, run by run. */
export interface RatioSeries extends Series {
  /** max / min of the per-run ratios: 1.0 means every run gave the same ratio. */
  spread: number;
}

/** A measured case. */
export interface Result {
  mechanism: string;
  case: string;
  kind: Kind;
  unit: string;
  goal?: number;
  goalVsDeno?: boolean;
  denoLabel?: string;
  c: Series;
  ipckit: Series;
  deno?: Series;
  /** ipckit ÷ C (slowdown: 1.0 = C's speed, higher = slower), paired run by run. */
  ratio: RatioSeries;
  /** Deno built-in ÷ C, paired run by run. */
  denoRatio?: RatioSeries;
  /** Whether the goal was met (by the median ratio), if there is one. */
  met?: boolean;
}

const cacheDir = new URL("../.cache/bench/", import.meta.url).pathname;
const compiled = new Map<string, Promise<string>>();

/** Compiles `bench/c/<name>.c` with gcc -O2 (once per run of the benchmark) and returns the binary. */
export function compileC(name: string): Promise<string> {
  let p = compiled.get(name);
  if (!p) compiled.set(name, p = compile(name));
  return p;
}

async function compile(name: string): Promise<string> {
  Deno.mkdirSync(cacheDir, { recursive: true });
  const src = new URL(`./c/${name}.c`, import.meta.url).pathname;
  const out = `${cacheDir}${name}`;
  const res = await new Deno.Command("gcc", {
    args: ["-O2", "-o", out, src, "-lpthread", "-lrt"],
    stderr: "piped",
  }).output();
  if (!res.success) throw new Error(`gcc ${src}:\n${new TextDecoder().decode(res.stderr)}`);
  return out;
}

/** Runs a program and returns its stdout (trimmed); throws on failure. */
export async function run(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  const res = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", env }).output();
  const dec = new TextDecoder();
  if (!res.success) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${res.code}: ${dec.decode(res.stderr)}`);
  }
  return dec.decode(res.stdout).trim();
}

/** Runs a program that prints one number, and returns it. */
export async function runNumber(cmd: string, args: string[]): Promise<number> {
  const out = await run(cmd, args);
  const n = Number(out.split("\n").pop());
  if (!Number.isFinite(n)) throw new Error(`${cmd} ${args.join(" ")} printed ${out}`);
  return n;
}

/** Runs a Deno script of bench/ with all permissions and returns its stdout. */
export function runDeno(script: string, args: string[] = []): Promise<string> {
  const path = new URL(script, import.meta.url).pathname;
  return run(Deno.execPath(), ["run", "--allow-all", "--no-check", path, ...args]);
}

/** Runs a Deno script of bench/ that prints one number, and returns it. */
export async function denoNumber(script: string, args: string[] = []): Promise<number> {
  const out = await runDeno(script, args);
  const n = Number(out.split("\n").pop());
  if (!Number.isFinite(n)) throw new Error(`${script} ${args.join(" ")} printed ${out}`);
  return n;
}

/** Slowdown of `x` against `c` (1.0 = as fast as C, higher = slower). */
export function slowdown(kind: Kind, x: number, c: number): number {
  return kind === "time" ? x / c : c / x;
}

/** min, median, max of `xs` (kept in run order). */
export function series(xs: number[]): Series {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { runs: xs, min: s[0], median, max: s[s.length - 1] };
}

function ratios(kind: Kind, xs: number[], cs: number[]): RatioSeries {
  const r = series(xs.map((x, i) => slowdown(kind, x, cs[i])));
  return { ...r, spread: r.max / r.min };
}

/** Options for {@linkcode runCases}. */
export interface RunOptions {
  /** Rounds: every case is measured once per round, C, ipckit and built-in in turn. */
  runs: number;
  /** Called before each measurement (progress on stderr). */
  progress?: (line: string) => void;
  /**
   * `performance.now()` after which no new round starts (the rounds done so
   * far are reported; at least one always runs).
   */
  until?: number;
  /**
   * Measurements per implementation in a round (default 1), interleaved
   * with the order rotating (C, ipckit, then ipckit, C...); the round keeps
   * each one's best (highest
   * throughput, lowest time). Interference from other tenants of a shared
   * machine only ever slows a measurement down, so the best of two filters
   * a burst that hit one side of a pair.
   */
  bestOf?: number;
}

/** The better of two figures of `kind`: higher throughput or rate, lower time. */
function better(kind: Kind, a: number, b: number): number {
  return kind === "time" ? Math.min(a, b) : Math.max(a, b);
}

/**
 * Measures every case `runs` times, interleaved: each round measures every
 * case once, and within a case C, ipckit and the built-in back to back, in
 * an order that rotates from round to round (the second of two back-to-back
 * runs was measurably faster here, whichever it was). Load from other
 * processes on a shared machine then hits all three alike, and the per-run
 * ratio pairs figures taken seconds apart.
 */
export async function runCases(cases: Case[], options: RunOptions): Promise<Result[]> {
  const figures = cases.map(() => ({
    c: [] as number[],
    ipckit: [] as number[],
    deno: [] as number[],
  }));
  const start = performance.now();
  for (let round = 0; round < options.runs; round++) {
    const perRound = (performance.now() - start) / Math.max(1, round);
    if (round > 0 && options.until !== undefined && performance.now() + perRound > options.until) {
      options.progress?.(`time budget reached: ${round} of ${options.runs} rounds`);
      break;
    }
    for (const [i, k] of cases.entries()) {
      const impls: ["c" | "ipckit" | "deno", Measure][] = [["c", k.c], ["ipckit", k.ipckit]];
      if (k.deno) impls.push(["deno", k.deno]);
      const best = new Map<string, number>();
      for (let rep = 0; rep < (options.bestOf ?? 1); rep++) {
        for (let j = 0; j < impls.length; j++) {
          const [who, measure] = impls[(j + round + rep) % impls.length];
          options.progress?.(
            `round ${round + 1}/${options.runs}: ${k.mechanism} ${k.case} (${who})`,
          );
          const x = await measure();
          const seen = best.get(who);
          best.set(who, seen === undefined ? x : better(k.kind, seen, x));
        }
      }
      for (const [who] of impls) figures[i][who].push(best.get(who)!);
    }
  }
  return cases.map((k, i) => {
    const f = figures[i];
    const ratio = ratios(k.kind, f.ipckit, f.c);
    const result: Result = {
      mechanism: k.mechanism,
      case: k.case,
      kind: k.kind,
      unit: k.kind === "time" ? "µs/op" : "MiB/s",
      c: series(f.c),
      ipckit: series(f.ipckit),
      ratio,
    };
    if (k.goal !== undefined) result.goal = k.goal;
    if (k.deno) {
      result.deno = series(f.deno);
      result.denoLabel = k.denoLabel;
      result.denoRatio = ratios(k.kind, f.deno, f.c);
    }
    if (k.goalVsDeno) result.goalVsDeno = true;
    if (k.goal !== undefined || k.goalVsDeno) {
      const vsC = k.goal === undefined || ratio.median <= k.goal;
      const vsDeno = !k.goalVsDeno || !result.denoRatio || ratio.median <= result.denoRatio.median;
      result.met = vsC && vsDeno;
    }
    return result;
  });
}

/** Formats a figure with about three significant digits. */
export function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}
