import { equal, match } from "node:assert/strict";
import { runDeno } from "./_helpers.ts";

const example = (name: string) => new URL(`../examples/${name}`, import.meta.url);

Deno.test("examples/sock_fd_helper.ts: the worker reads a file through a passed descriptor", async () => {
  const out = await runDeno(example("sock_fd_helper.ts"), [], { env: { NO_COLOR: "1" } });
  equal(out.code, 0, out.stderr);
  match(out.stdout, /worker: read through the passed descriptor: the secret is 42/);
  if (Deno.uid() === 0) match(out.stdout, /worker: cannot open it myself \(PermissionDenied\)/);
});

Deno.test("examples/sock_auth_server.ts: callers are accepted or refused by uid", async () => {
  const out = await runDeno(example("sock_auth_server.ts"), [], { env: { NO_COLOR: "1" } });
  equal(out.code, 0, out.stderr);
  match(out.stdout, new RegExp(`client uid ${Deno.uid()}: welcome, pid \\d+`));
  if (Deno.uid() === 0) match(out.stdout, /client uid 65534: refused: wrong user/);
});

Deno.test("examples/sock_prefork.ts: every connection is served by a worker process", async () => {
  const out = await runDeno(example("sock_prefork.ts"), [], { env: { NO_COLOR: "1" } });
  equal(out.code, 0, out.stderr);
  const lines = out.stdout.trim().split("\n");
  equal(lines.length, 4);
  const pids = new Set(lines.map((l) => l.match(/^worker (\d+) served "request \d"$/)?.[1]));
  equal(pids.size, 2, out.stdout);
});
