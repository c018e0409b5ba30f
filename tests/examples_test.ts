import { equal, match } from "node:assert/strict";
import { runDeno } from "./_helpers.ts";

Deno.test("examples/demo.ts runs every step", async () => {
  const r = await runDeno(new URL("../examples/demo.ts", import.meta.url));
  equal(r.code, 0, r.stderr);
  match(r.stdout, /line 3 from pid \d+/);
  match(r.stdout, /all 12 numbers distinct/);
  match(r.stdout, /child said "done"; the timer ticked \d+ times/);
  match(r.stdout, /waiter got SIGRTMIN\+1 from pid (\d+) \(we are \1\) with value 42/);
  match(r.stdout, /read through the passed descriptor: the secret is 42/);
  match(r.stdout, /records: 200 200 200 200/);
  match(r.stdout, /after the child was killed the parent got the write lock/);
  match(r.stdout, /20 jobs done by 3 workers; sum of squares 2870/);
  match(r.stdout, /consumer summed 5050; expected 5050/);
});

Deno.test("examples/fifo_sequence_server.ts hands out distinct numbers to four clients", async () => {
  const r = await runDeno(new URL("../examples/fifo_sequence_server.ts", import.meta.url));
  equal(r.code, 0, r.stderr);
  match(r.stdout, /all 12 numbers distinct/);
});
