import { equal, match } from "node:assert/strict";
import { runDeno } from "./_helpers.ts";

Deno.test("examples/demo.ts runs every step", async () => {
  const r = await runDeno(new URL("../examples/demo.ts", import.meta.url));
  equal(r.code, 0, r.stderr);
  match(r.stdout, /line 3 from pid \d+/);
  match(r.stdout, /all 12 numbers distinct/);
  match(r.stdout, /child said "done"; the timer ticked \d+ times/);
});

Deno.test("examples/fifo_sequence_server.ts hands out distinct numbers to four clients", async () => {
  const r = await runDeno(new URL("../examples/fifo_sequence_server.ts", import.meta.url));
  equal(r.code, 0, r.stderr);
  match(r.stdout, /all 12 numbers distinct/);
});
