/**
 * A benchmark guard that noise cannot trip: a few cases that normally run
 * at or under 1.5× their C baseline are measured against that baseline in
 * the same run, interleaved, five times; the test fails only if even the
 * best of the five ratios is over 3× (a gross regression such as a pool
 * round trip or an extra system call per call; an allocation per call costs
 * well under that and is left to `deno task bench`). Absolute times are never
 * checked. Takes a few seconds; `deno task bench` is the real benchmark.
 */
import { ok } from "node:assert/strict";
import { type Case, compileC, runCases, runNumber } from "../bench/_harness.ts";
import { resultsTable } from "../bench/_report.ts";
import { mqTry, shmCopy } from "../bench/posix_bench.ts";
import { socketThroughput } from "../bench/socket_bench.ts";
import { tempDir } from "./_helpers.ts";

/** Worst acceptable ratio of the best round. */
const GROSS = 3;
/** Interleaved rounds per case. */
const ROUNDS = 5;

function haveGcc(): boolean {
  try {
    return new Deno.Command("gcc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const gcc = haveGcc();
if (!gcc) console.log("bench smoke test skipped: no gcc to build the C baselines");

Deno.test({
  ignore: !gcc,
  name: "benchmark smoke: cases normally within 1.5× of C stay within 3× in their best round",
  // gcc, C children and a socket server: leave the resource sanitizers out.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    using dir = tempDir();
    const posix = await compileC("posix");
    const socket = await socketThroughput(dir.path, 32);
    const cases: Case[] = [
      {
        mechanism: "posix mq",
        case: "64 B trySend+tryReceiveInto",
        kind: "time",
        c: () => runNumber(posix, ["mq-try", "64", "50000"]),
        ipckit: () => mqTry(64, 50000, true),
      },
      {
        mechanism: "posix shm",
        case: "copy 16 MiB into the mapping",
        kind: "throughput",
        c: () => runNumber(posix, ["memcpy", "16", "8"]),
        ipckit: () => shmCopy(16, 8),
      },
      {
        mechanism: "unix socket",
        case: "throughput, 64 KiB writes into a C sink",
        kind: "throughput",
        ...socket,
      },
    ];
    const results = await runCases(cases, { runs: ROUNDS });
    console.log(resultsTable(results));
    const gross = results.filter((r) => r.ratio.min > GROSS);
    ok(
      gross.length === 0,
      gross.map((r) =>
        `${r.mechanism} ${r.case}: best run ${r.ratio.min.toFixed(2)}× C ` +
        `(runs ${r.ratio.runs.map((x) => x.toFixed(2)).join(", ")}), over ${GROSS}×`
      ).join("\n"),
    );
  },
});
