import { equal, match } from "node:assert/strict";
import { runDeno } from "./_helpers.ts";

const ex = (f: string) => new URL(`../examples/${f}`, import.meta.url);

Deno.test("examples/posix_work_queue.ts spreads jobs over worker processes", async () => {
  const r = await runDeno(ex("posix_work_queue.ts"), ["3", "30"]);
  equal(r.code, 0, r.stderr);
  match(r.stdout, /30 jobs done by [1-3] workers; sum of squares 9455/);
});

Deno.test("examples/posix_bounded_buffer.ts passes every item through shared memory", async () => {
  const r = await runDeno(ex("posix_bounded_buffer.ts"), ["300"]);
  equal(r.code, 0, r.stderr);
  equal(r.stdout.trim(), "consumer summed 45150; expected 45150");
});

Deno.test("examples/posix_cli_coordination.sh coordinates two programs with the CLI", async () => {
  const out = await new Deno.Command("sh", {
    args: [ex("posix_cli_coordination.sh").pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  equal(out.code, 0, dec.decode(out.stderr));
  equal(dec.decode(out.stdout).trim(), "server got: hello");
});
