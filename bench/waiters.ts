/**
 * Concurrent waiters: N pipes, each with a pending `read()`, all parked in
 * the one reactor. Then, ROUNDS times, one byte is written to one pipe (a
 * different one each time) and that read awaited; prints the median and
 * 90th percentile time from the write to the resolved read, and the CPU
 * time of the process (all threads) per wake-up, all in µs, as JSON.
 *
 *   waiters.ts N [ROUNDS]
 *
 * @module
 */
import { cpuUsage } from "node:process";
import { createPipe } from "../mod.ts";

const n = Number(Deno.args[0]);
const rounds = Number(Deno.args[1] ?? 400);
const pipes = Array.from({ length: n }, () => createPipe());
const bufs = pipes.map(() => new Uint8Array(1));
const one = new Uint8Array([1]);
const pending = pipes.map((p, i) => p.reader.read(bufs[i]));
await new Promise((r) => setTimeout(r, 20)); // all parked
const lat: number[] = [];
const warm = Math.min(50, rounds / 4);
let cpu0 = cpuUsage();
for (let r = 0; r < rounds + warm; r++) {
  if (r === warm) cpu0 = cpuUsage();
  const k = (r * 7919) % n;
  const t0 = performance.now();
  pipes[k].writer.tryWrite(one);
  await pending[k];
  if (r >= warm) lat.push((performance.now() - t0) * 1000);
  pending[k] = pipes[k].reader.read(bufs[k]);
}
const used = cpuUsage(cpu0);
lat.sort((a, b) => a - b);
const q = (p: number) => lat[Math.floor(p * (lat.length - 1))];
for (const p of pipes) p[Symbol.dispose]();
await Promise.allSettled(pending);
console.log(JSON.stringify({ p50: q(0.5), p90: q(0.9), cpu: (used.user + used.system) / rounds }));
