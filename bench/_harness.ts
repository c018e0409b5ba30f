/**
 * Benchmark plumbing: every mechanism's benchmark returns rows measuring the
 * same work done by ipckit, by a C baseline compiled in the same run, and
 * (where one exists) by Deno's built-in equivalent. `bench/main.ts` prints
 * them as one table with ratios against C.
 *
 * @module
 */

/** One measured case. Lower is better for "time" rows, higher for "throughput". */
export interface Row {
  /** Mechanism, e.g. "pipe". */
  mechanism: string;
  /** What was measured, e.g. "64 B ping-pong round trip". */
  case: string;
  /** "time" rows are µs per operation; "throughput" rows are MiB/s; "rate" rows are msg/s. */
  kind: "time" | "throughput" | "rate";
  /** ipckit's figure. */
  ipckit: number;
  /** The C baseline's figure. */
  c: number;
  /** Deno's built-in equivalent, if any. */
  deno?: number;
  /** Name of the Deno built-in compared against. */
  denoLabel?: string;
  /** Goal as a maximum slowdown against C (e.g. 2 for "within 2×"). */
  goal?: number;
}

/** A benchmark module's entry point. */
export type Bench = () => Promise<Row[]>;

const cacheDir = new URL("../.cache/bench/", import.meta.url).pathname;

/** Compiles `bench/c/<name>.c` with gcc -O2 in this run and returns the binary. */
export async function compileC(name: string): Promise<string> {
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

/** Runs a Deno script with all permissions and returns its stdout. */
export function runDeno(script: string, args: string[] = []): Promise<string> {
  const path = new URL(script, import.meta.url).pathname;
  return run(Deno.execPath(), ["run", "--allow-all", "--no-check", path, ...args]);
}

/** The median of `runs` runs of `fn` (each returning a figure). */
export async function median(runs: number, fn: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(await fn());
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

/** Slowdown of `x` against the C figure (1.0 = as fast as C). */
export function ratio(row: Row, x: number): number {
  return row.kind === "time" ? x / row.c : row.c / x;
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** Renders rows as a Markdown table. */
export function table(rows: Row[]): string {
  const head =
    "| mechanism | case | unit | C | ipckit | ipckit ÷ C | goal | Deno built-in | built-in ÷ C |";
  const sep = "|---|---|---|---|---|---|---|---|---|";
  const lines = rows.map((r) => {
    const unit = r.kind === "time" ? "µs/op" : r.kind === "rate" ? "msg/s" : "MiB/s";
    const rc = ratio(r, r.ipckit);
    const goal = r.goal === undefined ? "" : `≤ ${r.goal}× ${rc <= r.goal ? "met" : "MISSED"}`;
    const deno = r.deno === undefined ? "" : `${fmt(r.deno)} (${r.denoLabel ?? "deno"})`;
    const dr = r.deno === undefined ? "" : `${ratio(r, r.deno).toFixed(2)}×`;
    return `| ${r.mechanism} | ${r.case} | ${unit} | ${fmt(r.c)} | ${fmt(r.ipckit)} | ${
      rc.toFixed(2)
    }× | ${goal} | ${deno} | ${dr} |`;
  });
  return [head, sep, ...lines].join("\n");
}
