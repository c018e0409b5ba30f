import { equal, match } from "node:assert/strict";
import { runDeno } from "./_helpers.ts";

// The examples remove what they create (removeOnClose); the suite's final
// leak check fails on any System V object left behind.

Deno.test("examples/sysv_file_server.ts serves two clients over one queue", async () => {
  const r = await runDeno(new URL("../examples/sysv_file_server.ts", import.meta.url));
  equal(r.code, 0, r.stderr);
  const size = Deno.statSync(new URL("../examples/sysv_file_server.ts", import.meta.url)).size;
  match(r.stdout, new RegExp(`client got sysv_file_server.ts: ${size} bytes`));
  match(r.stdout, /client error for hostname-that-does-not-exist: NotFound/);
  match(r.stdout, /server answered 2 requests/);
});

Deno.test("examples/sysv_rwlock.ts survives a write-lock holder killed with SIGKILL", async () => {
  const r = await runDeno(new URL("../examples/sysv_rwlock.ts", import.meta.url));
  equal(r.code, 0, r.stderr);
  equal(
    r.stdout,
    [
      "two readers hold it: readers=2",
      "writer waits: ETIMEDOUT",
      "child: holding the write lock; writer=1",
      "after the child was killed the parent got the write lock",
      "",
    ].join("\n"),
  );
});
