/**
 * `deno task bench`: runs every mechanism's cases against their C baselines
 * (compiled in this run) and Deno's built-ins, interleaved and repeated, and
 * prints min, median, max and spread of every ratio.
 *
 *   deno task bench [MECHANISM...] [--runs N] [--best-of K] [--max-minutes M] [--json]
 *                   [--scaling] [--report]
 *
 * Mechanisms: pipe, socket, posix, sysv, lock, channel (the shared-memory
 * channel). `--json` prints the results as JSON instead of a table.
 * `--best-of K` makes each run keep the best of K interleaved measurements
 * per side (default 1; 2 with `--report`). `--scaling` adds the
 * message-size and concurrent-waiter curves. `--report` (10 runs and the curves unless told
 * otherwise) writes docs/benchmarks.md, docs/benchmarks.svg and
 * docs/benchmarks.json. `--max-minutes` stops starting new rounds when the
 * budget would be exceeded (the report says how many rounds ran).
 *
 * @module
 */
import { type Case, runCases } from "./_harness.ts";
import { chart, machine, markdown, type Report, resultsTable } from "./_report.ts";
import { sizeCurves, waiterCurve } from "./scaling.ts";
import { pipeCases } from "./pipe_bench.ts";
import { socketCases } from "./socket_bench.ts";
import { posixCases } from "./posix_bench.ts";
import { sysvCases } from "./sysv_bench.ts";
import { lockCases } from "./lock_bench.ts";
import { channelCases } from "./channel_cases.ts";

const args = [...Deno.args];
const flag = (name: string) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const option = (name: string) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const report = flag("--report");
const json = flag("--json");
const quiet = flag("--quiet");
const scaling = flag("--scaling") || (report && !flag("--no-scaling"));
const runs = Number(option("--runs") ?? (report ? 10 : 3));
// Each run keeps the best of this many measurements per side (see RunOptions.bestOf).
const bestOf = Number(option("--best-of") ?? (report ? 2 : 1));
// A time budget for the whole benchmark: rounds stop early (and say so) past it.
const minutes = Number(option("--max-minutes") ?? Infinity);
const only = args.filter((a) => !a.startsWith("-"));
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a positive integer");
if (!Number.isInteger(bestOf) || bestOf < 1) throw new Error("--best-of takes a positive integer");
if (!(minutes > 0)) throw new Error("--max-minutes takes a positive number");
const until = performance.now() + minutes * 60_000;
const unknown = args.filter((a) => a.startsWith("-"));
if (unknown.length) throw new Error(`unknown option ${unknown.join(" ")}`);

const progress = quiet ? undefined : (line: string) => console.error(line);
const dir = Deno.makeTempDirSync({ prefix: "ipckit-bench-" });
try {
  const groups: Record<string, () => Promise<Case[]>> = {
    pipe: pipeCases,
    socket: () => socketCases(dir),
    posix: posixCases,
    sysv: sysvCases,
    lock: () => lockCases(dir),
    channel: channelCases,
  };
  for (const name of only) {
    if (!(name in groups)) throw new Error(`unknown mechanism ${name}: ${Object.keys(groups)}`);
  }
  const cases: Case[] = [];
  for (const [name, make] of Object.entries(groups)) {
    if (!only.length || only.includes(name)) cases.push(...await make());
  }
  const command = `deno task bench ${Deno.args.join(" ")}`.trim();
  // Leave a fifth of the budget for the curves.
  const results = await runCases(cases, {
    runs,
    bestOf,
    progress,
    until: !Number.isFinite(minutes) ? undefined : scaling ? until - minutes * 12_000 : until,
  });
  const done = Math.min(...results.map((r) => r.c.runs.length));
  const out: Report = { machine: machine(command, done, bestOf), results };
  if (scaling) {
    const mechs = ["pipe", "socket", "mq", "sysv", "channel"].filter(
      (m) => !only.length || only.includes(m === "mq" ? "posix" : m),
    );
    const curveRuns = Math.min(runs, 3);
    out.sizes = await sizeCurves(
      mechs,
      curveRuns,
      progress,
      Number.isFinite(minutes) ? until : undefined,
    );
    if (!only.length || only.includes("pipe")) {
      out.waiters = await waiterCurve([1, 10, 100, 1000], curveRuns, progress);
    }
  }
  if (report) {
    const docs = new URL("../docs/", import.meta.url);
    Deno.writeTextFileSync(new URL("benchmarks.md", docs), markdown(out));
    Deno.writeTextFileSync(new URL("benchmarks.svg", docs), chart(out.results, out.machine));
    Deno.writeTextFileSync(new URL("benchmarks.json", docs), JSON.stringify(out, null, 1) + "\n");
    // In the repository's format, so `deno task check` passes with the files as written.
    const files = ["md", "svg", "json"].map((e) => new URL(`benchmarks.${e}`, docs).pathname);
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", ...files] }).output();
    console.error("wrote docs/benchmarks.md, docs/benchmarks.svg, docs/benchmarks.json");
  }
  if (json) console.log(JSON.stringify(out, null, 1));
  else {
    console.log(resultsTable(out.results));
    const m = out.machine;
    console.log(
      `\n${m.date}, ${m.cpus} × ${m.cpuModel}, Deno ${m.deno}; ${m.runs} interleaved runs` +
        (m.bestOf > 1 ? ` (each the best of ${m.bestOf} measurements per side). ` : ". ") +
        "Ratios are ipckit (or the built-in) over C, paired run by run: 1.00× is C's speed, " +
        "higher is slower; spread = largest ratio ÷ smallest.",
    );
  }
} finally {
  Deno.removeSync(dir, { recursive: true });
}
