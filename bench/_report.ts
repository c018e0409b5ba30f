/**
 * Renders benchmark results: the Markdown report (docs/benchmarks.md), the
 * SVG chart of ipckit ÷ C per case with its spread (docs/benchmarks.svg,
 * written by hand: no dependencies), and the machine description both
 * carry.
 *
 * @module
 */
import { fmt, type Result, type Series } from "./_harness.ts";
import {
  SPIN_BUSY_US,
  SPIN_CROWD,
  SPIN_GIVE_UP,
  SPIN_MAX_US,
  SPIN_MIN_US,
  SPIN_PROBE_EVERY,
} from "../lib/_spinner.ts";
import type { SizePoint, WaiterPoint } from "./scaling.ts";

/** Where and how the figures were taken. */
export interface Machine {
  date: string;
  cpus: number;
  cpuModel: string;
  kernel: string;
  deno: string;
  target: string;
  command: string;
  runs: number;
  /** Measurements per implementation in each run, of which the run keeps the best. */
  bestOf: number;
}

/** The whole report, as written to docs/benchmarks.json. */
export interface Report {
  machine: Machine;
  results: Result[];
  sizes?: SizePoint[];
  waiters?: WaiterPoint[];
}

/** Describes this machine (CPU model from /proc/cpuinfo, kernel from /proc). */
export function machine(command: string, runs: number, bestOf = 1): Machine {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const model = /^model name\s*:\s*(.*)$/m.exec(read("/proc/cpuinfo"))?.[1] ?? "unknown CPU";
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cpus: navigator.hardwareConcurrency,
    cpuModel: model.trim(),
    kernel: read("/proc/sys/kernel/osrelease").trim() || "unknown",
    deno: Deno.version.deno,
    target: Deno.build.target,
    command,
    runs,
    bestOf,
  };
}

/**
 * What an allocating try-receive costs over the allocation-free one, from
 * the paired cases of this report (ipckit medians), e.g. " 0.94 µs more at
 * 64 B and 1.95 µs at 4 KiB for POSIX mq."
 */
function allocationCost(results: Result[]): string {
  const parts: string[] = [];
  for (const size of ["64 B", "4 KiB"]) {
    const of = (allocates: boolean) =>
      results.find((r) =>
        r.mechanism === "posix mq" && r.case.startsWith(`${size} trySend+`) &&
        r.case.includes("allocates") === allocates
      );
    const [a, b] = [of(true), of(false)];
    if (a && b) parts.push(`${fmt(a.ipckit.median - b.ipckit.median)} µs more at ${size}`);
  }
  return parts.length ? ` ${parts.join(" and ")} for POSIX mq here.` : " (not measured here).";
}

const x = (n: number) => `${n.toFixed(2)}×`;
/** Largest figure of one implementation over its smallest, across the runs. */
export const ownSpread = (s: Series): number => s.max / s.min;
const range = (s: Series) => `${fmt(s.min)}–${fmt(s.max)}`;

function goalText(r: Result): string {
  const parts: string[] = [];
  if (r.goal !== undefined) parts.push(`≤ ${r.goal}× C`);
  if (r.goalVsDeno) parts.push("≤ built-in");
  if (!parts.length) return "";
  return `${parts.join(", ")}: ${r.met ? "met" : "**missed**"}`;
}

/** The results as one Markdown table. */
export function resultsTable(results: Result[]): string {
  const head = "| mechanism | case | unit | C median | ipckit median (min–max) | " +
    "ipckit ÷ C median | ÷ C min–max | spread | C's own spread | ipckit's own spread | goal | " +
    "built-in median | built-in ÷ C |";
  const sep = "|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|";
  const rows = results.map((r) =>
    `| ${r.mechanism} | ${r.case} | ${r.unit} | ${fmt(r.c.median)} | ` +
    `${fmt(r.ipckit.median)} (${range(r.ipckit)}) | ${x(r.ratio.median)} | ` +
    `${x(r.ratio.min)}–${x(r.ratio.max)} | ${r.ratio.spread.toFixed(2)} | ` +
    `${ownSpread(r.c).toFixed(2)} | ${ownSpread(r.ipckit).toFixed(2)} | ${goalText(r)} | ` +
    (r.deno ? `${fmt(r.deno.median)} (${r.denoLabel})` : "") + " | " +
    (r.denoRatio ? x(r.denoRatio.median) : "") + " |"
  );
  return [head, sep, ...rows].join("\n");
}

function sizeLabel(n: number): string {
  return n >= 2 ** 20 ? `${n / 2 ** 20} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`;
}

/** The message-size curves as Markdown tables, one per mechanism. */
export function sizesTable(points: SizePoint[]): string {
  const out: string[] = [];
  for (const mech of [...new Set(points.map((p) => p.mechanism))]) {
    out.push(`\n**${mech}** (MiB/s, medians of the runs; slowdown = C's MiB/s ÷ ipckit's)\n`);
    out.push("| message size | C | ipckit | slowdown | slowdown min–max |");
    out.push("|--:|--:|--:|--:|--:|");
    for (const p of points.filter((p) => p.mechanism === mech)) {
      out.push(
        `| ${sizeLabel(p.size)} | ${fmt(p.c.median)} | ${fmt(p.ipckit.median)} | ` +
          `${x(p.ratio.median)} | ${x(p.ratio.min)}–${x(p.ratio.max)} |`,
      );
    }
  }
  return out.join("\n");
}

/** The concurrent-waiter curve as a Markdown table. */
export function waitersTable(points: WaiterPoint[]): string {
  return [
    "| waiters | wake-up latency p50 (µs) | p90 (µs) | CPU per wake-up (µs) |",
    "|--:|--:|--:|--:|",
    ...points.map((p) =>
      `| ${p.waiters} | ${fmt(p.p50.median)} (${range(p.p50)}) | ${fmt(p.p90.median)} | ` +
      `${fmt(p.cpu.median)} (${range(p.cpu)}) |`
    ),
  ].join("\n");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * A horizontal chart, one row per case: ipckit ÷ C on a log scale, a dot at
 * the median, a bar from the smallest to the largest run, a tick at the goal
 * and a line at 1× (C's speed).
 */
export function chart(results: Result[], m: Machine): string {
  const rowH = 18, top = 54, left = 470, plotW = 400, right = 70;
  const width = left + plotW + right;
  const height = top + results.length * rowH + 40;
  const lo = 0.25, hi = 32;
  const px = (r: number) =>
    left + plotW * (Math.log2(Math.min(hi, Math.max(lo, r))) - Math.log2(lo)) /
      (Math.log2(hi) - Math.log2(lo));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">ipckit ÷ C per case ` +
      `(1× = C's speed; lower is better)</text>`,
    `<text x="10" y="34" fill="#555">${
      esc(
        `${m.date}, ${m.cpus} × ${m.cpuModel}, Linux ${m.kernel}, Deno ${m.deno}; ` +
          `${m.runs} interleaved runs: dot = median, bar = min–max, tick = goal`,
      )
    }</text>`,
  );
  for (const t of [0.25, 0.5, 1, 2, 4, 8, 16, 32]) {
    const X = px(t).toFixed(1);
    out.push(
      `<line x1="${X}" y1="${top - 6}" x2="${X}" y2="${top + results.length * rowH}" ` +
        `stroke="${t === 1 ? "#333" : "#ddd"}" stroke-width="${t === 1 ? 1.5 : 1}"/>`,
      `<text x="${X}" y="${top - 9}" text-anchor="middle" fill="#555">${t}×</text>`,
    );
  }
  results.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    const color = r.met === undefined ? "#777" : r.met ? "#1a7f37" : "#cf222e";
    const label = `${r.mechanism}: ${r.case}`;
    out.push(
      `<text x="${left - 8}" y="${y + 4}" text-anchor="end">${
        esc(label.length > 72 ? label.slice(0, 71) + "…" : label)
      }</text>`,
      `<line x1="${px(r.ratio.min).toFixed(1)}" y1="${y}" x2="${px(r.ratio.max).toFixed(1)}" ` +
        `y2="${y}" stroke="${color}" stroke-width="5" stroke-opacity="0.35" stroke-linecap="round"/>`,
      `<circle cx="${px(r.ratio.median).toFixed(1)}" cy="${y}" r="4" fill="${color}"/>`,
      `<text x="${left + plotW + 6}" y="${y + 4}" fill="${color}">${x(r.ratio.median)}</text>`,
    );
    if (r.goal !== undefined) {
      const g = px(r.goal).toFixed(1);
      out.push(`<line x1="${g}" y1="${y - 6}" x2="${g}" y2="${y + 6}" stroke="#333"/>`);
    }
  });
  const foot = top + results.length * rowH + 22;
  out.push(
    `<text x="10" y="${foot}" fill="#555">${
      esc(`green: goal met, red: missed, grey: no goal. Command: ${m.command}`)
    }</text>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}

function mid(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
}

/** The Markdown report. */
export function markdown(report: Report): string {
  const m = report.machine;
  const met = report.results.filter((r) => r.met === true).length;
  const goals = report.results.filter((r) => r.met !== undefined).length;
  const spreads = report.results.map((r) => r.ratio.spread).sort((a, b) => a - b);
  const lines = [
    "# Benchmarks",
    "",
    "<!-- Generated by `deno task bench --report`; do not edit by hand. -->",
    "",
    `Measured ${m.date} on ${m.cpus} × ${m.cpuModel} (Linux ${m.kernel}, ${m.target}), ` +
    `Deno ${m.deno}, with \`${m.command}\`: ${m.runs} interleaved runs of every case` +
    (m.bestOf > 1
      ? `, each run the best of ${m.bestOf} measurements per implementation (interleaved, the` +
        " order rotating: C, ipckit, then ipckit, C; interference from other tenants only ever slows a" +
        " measurement down, so this drops a burst that hit one side of a pair)."
      : "."),
    "",
    "Each case does the same work three ways: a C program compiled with `gcc -O2` in the same",
    "run, ipckit, and Deno's built-in equivalent where there is one. A run measures every case",
    "once, C, ipckit and the built-in back to back in an order that rotates from run to run, so",
    "load from other processes hits all three alike. Ratios are taken run by run (ipckit against",
    "the C figure of the same run) and are slowdowns: 1.00× is C's speed, 2.00× half of it.",
    "*Spread* is the largest per-run ratio over the smallest: 1.00 means every run agreed.",
    "Absolute figures depend on the machine (this one is a shared VM); the ratios carry over.",
    "",
    `Goals met: ${met} of ${goals}. Ratio spread over all cases: median ` +
    `${spreads[spreads.length >> 1]?.toFixed(2)}, largest ${spreads.at(-1)?.toFixed(2)}. ` +
    `Each implementation's own spread (its largest figure over its smallest): C median ` +
    `${mid(report.results.map((r) => ownSpread(r.c))).toFixed(2)}, ipckit median ` +
    `${mid(report.results.map((r) => ownSpread(r.ipckit))).toFixed(2)}. Where C's own figures ` +
    "vary by more than 1.5× from run to run, a ratio's spread mostly measures the machine.",
    "",
    "![ipckit ÷ C per case](benchmarks.svg)",
    "",
    "## Results",
    "",
    resultsTable(report.results),
    "",
  ];
  if (report.sizes?.length) {
    lines.push(
      "## Scaling with message size",
      "",
      "Streams of messages of each size from one process to another (as in the streaming",
      "cases above): pipe and stream socket from 16 B to 1 MiB, POSIX mq up to the host's",
      "`msgsize_max` and System V msg up to `msgmax`" +
        (report.sizes.some((p) => p.mechanism === "channel")
          ? "; the shared-memory channel (Deno → Deno against its C ring, C → C) up to 64 KiB."
          : ". The shared-memory channel was not among the mechanisms measured."),
      sizesTable(report.sizes),
      "",
    );
  }
  if (report.waiters?.length) {
    lines.push(
      "## Scaling with concurrent waiters",
      "",
      "N pipes, each with a pending `read()` (N concurrent waits, all parked in the one",
      "reactor); the benchmark then writes one byte to one pipe at a time and awaits that",
      "read: the time from the write to the resolved read (wake-up latency), and the CPU",
      "time of the whole process (all threads) per wake-up. One process; ipckit only (Deno",
      "has no built-in that waits on an arbitrary descriptor).",
      "",
      waitersTable(report.waiters),
      "",
    );
  }
  lines.push(
    "## How ipckit waits, and what bounds the ratios",
    "",
    "- Every blocking call first tries a non-blocking call on the JS thread. If it would block,",
    `  it waits briefly on this thread: up to ${SPIN_BUSY_US} µs retrying (with \`sched_yield()\`),`,
    `  then, for a descriptor, asleep in \`ppoll\` for the rest of a ${SPIN_MAX_US} µs budget, so a`,
    "  peer that answers soon wakes it as directly as a C program. The budget drops to",
    `  ${SPIN_MIN_US} µs after ${SPIN_GIVE_UP} misses in a row (an idle object), and while`,
    `  ${SPIN_CROWD} or more waits are parked, and is probed again every ${SPIN_PROBE_EVERY} waits;`,
    "  it cannot collapse by itself, which used to make runs fast or 4× slower by chance. Only then is the wait parked in the",
    "  reactor: one epoll set per isolate and one `epoll_wait` on Deno's blocking pool, which",
    "  costs a hand-off between two threads (20–100 µs here, milliseconds on a loaded machine).",
    "- A call through Deno's FFI costs about 50–100 ns more than the same call from C. Calls that",
    "  do not enter the kernel at all in C (`sem_post`/`sem_trywait` on an uncontended POSIX",
    "  semaphore take about 10 ns) therefore cannot come near C's figure. Doing glibc's",
    "  compare-and-swap on the `sem_t` from JavaScript instead was measured too: V8's `Atomics`",
    "  cost the same 50 ns per post+tryWait as the two FFI calls, so ipckit keeps the calls.",
    "- Streams start their clock once the first quarter of the messages has arrived, in C and",
    "  ipckit alike: V8 compiles a hot loop on a background thread, which on a 2-CPU host",
    "  competes with both streaming processes, and reaching optimized code took about 150 ms",
    "  (20 000 messages of 4 KiB) here. A stream shorter than that runs at half speed or less.",
    "- Receiving into a reused buffer (`tryReceiveInto`, `receiveInto`, `read`) is the fast",
    "  path; `tryReceive()`/`receive()` return an owned `Message` and pay one allocation:" +
      allocationCost(report.results),
    "- On a shared machine the ratios of cases where two processes hand work to each other",
    "  (ping-pong, streams) depend on the load: a woken C process runs at once, a woken Deno",
    "  wait may need two threads scheduled. The spread column shows how much that moved.",
    "",
    "## Reproduce",
    "",
    "```sh ignore", // not run by the snippet test: minutes of benchmarking
    "deno task bench                 # every case, 3 runs, table on stdout",
    "deno task bench pipe sysv       # only these mechanisms",
    "deno task bench --runs 10 --json  # JSON on stdout",
    "deno task bench --report        # 10 runs (best of 2) + scaling; writes docs/benchmarks.{md,svg,json}",
    "deno task bench --best-of 3     # each run keeps the best of 3 measurements per side",
    "deno task bench --report --max-minutes 14   # the same within a time budget",
    "```",
    "",
  );
  return lines.join("\n");
}
