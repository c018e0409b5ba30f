/**
 * `deno task bench`: runs every mechanism's benchmark against its C baseline
 * (compiled in this run) and prints one table of ratios. Pass mechanism names
 * to run only those: `deno task bench pipe`.
 */
import { type Bench, type Row, table } from "./_harness.ts";
import { pipeBench } from "./pipe_bench.ts";
import { socketBench } from "./socket_bench.ts";
import { lockBench } from "./lock_bench.ts";
import { sysvBench } from "./sysv_bench.ts";
import { posixBench } from "./posix_bench.ts";
import { channelBench } from "./channel_bench.ts";

const benches: Record<string, Bench> = {
  pipe: pipeBench,
  socket: socketBench,
  lock: lockBench,
  sysv: sysvBench,
  posix: posixBench,
  channel: channelBench,
};

const only = Deno.args.filter((a) => !a.startsWith("-"));
const rows: Row[] = [];
for (const [name, bench] of Object.entries(benches)) {
  if (only.length && !only.includes(name)) continue;
  console.error(`running ${name}...`);
  rows.push(...await bench());
}
console.log(table(rows));
console.log(
  `\n${Deno.build.target}, deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs; ` +
    "ratios are ipckit (or the built-in) over C, so 1.00× is C's speed and higher is slower.",
);
