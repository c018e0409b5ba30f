import { equal, match, ok } from "node:assert/strict";
import { have, runDeno } from "./_helpers.ts";

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

Deno.test("examples/sock_dgram_rpc.ts: a bound client gets the server's answer", async () => {
  const out = await runDeno(example("sock_dgram_rpc.ts"), [], { env: { NO_COLOR: "1" } });
  equal(out.code, 0, out.stderr);
  match(out.stdout, /server: "ping from ipckit" from @[0-9a-f]{5}\n/);
  match(out.stdout, /client: PING FROM IPCKIT/);
});

Deno.test({
  name: "examples/sock_dgram_rpc.ts: socat UNIX-RECVFROM answers the bound client",
  ignore: !have("socat", "Debian package socat"),
  async fn() {
    const dir = Deno.makeTempDirSync();
    const path = `${dir}/rpc.sock`;
    const socat = new Deno.Command("socat", {
      args: [`UNIX-RECVFROM:${path},fork`, "SYSTEM:tr a-z A-Z"],
      stderr: "piped",
    }).spawn();
    try {
      for (let i = 0; i < 200; i++) {
        try {
          Deno.lstatSync(path);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      const out = await runDeno(example("sock_dgram_rpc.ts"), [path]);
      equal(out.code, 0, out.stderr);
      equal(out.stdout, "PING FROM IPCKIT\n");
    } finally {
      socat.kill();
      await socat.output();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "examples/sock_node_abstract.ts: Node and ipckit reach each other's abstract sockets",
  ignore: !have("node", "Debian package nodejs"),
  async fn() {
    const out = await runDeno(example("sock_node_abstract.ts"));
    equal(out.code, 0, out.stderr);
    equal(out.stdout, "ipckit server got: hi from node\nipckit client got: hi from node\n");
  },
});

Deno.test({
  name: "examples/sock_syslog.ts: sends what logger(1) sends to a local syslog socket",
  ignore: !have("logger", "Debian package bsdutils"),
  async fn() {
    const { bindUnix } = await import("../mod.ts");
    const dir = Deno.makeTempDirSync();
    try {
      using log = bindUnix(`${dir}/log`);
      // A zone half an hour off UTC: both must write its local time.
      const TZ = "Asia/Kolkata";
      const out = await runDeno(example("sock_syslog.ts"), ["hello log"], {
        env: { SYSLOG_SOCKET: `${dir}/log`, TZ },
      });
      equal(out.code, 0, out.stderr);
      const ours = (await log.receive({ timeout: 5000 })).text();
      const logger = await new Deno.Command("logger", {
        args: ["-u", `${dir}/log`, "--socket-errors=on", "-t", "ipckit-example", "hello log"],
        env: { TZ },
      }).output();
      equal(logger.code, 0);
      const theirs = (await log.receive({ timeout: 5000 })).text();
      // Same priority, timestamp shape, tag and text; ours adds the pid as syslog(3) does.
      const shape =
        /^<13>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d ipckit-example(\[\d+\])?: hello log$/;
      match(ours, shape);
      match(theirs, shape);
      // The same clock: the timestamps (same day) are at most a few seconds apart.
      const seconds = (line: string) => {
        const [h, m, s] = line.slice(11, 19).split(":").map(Number);
        return h * 3600 + m * 60 + s;
      };
      ok(Math.abs(seconds(theirs) - seconds(ours)) <= 5, `${ours}\n${theirs}`);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "examples/shm_python.ts: Python's resource tracker unlinks unless unregistered",
  ignore: !have("python3", "Debian package python3"),
  async fn() {
    const out = await runDeno(example("shm_python.ts"), [], {
      env: { PYTHON: "/usr/bin/python3" },
    });
    equal(out.code, 0, out.stderr);
    match(
      out.stdout,
      /without unregister: python read: hello; we read "python"; segment was unlinked/,
    );
    match(
      out.stdout,
      /with unregister: python read: hello; we read "python"; segment still exists/,
    );
  },
});

Deno.test("examples/sock_fd_blocking.ts: a blocking program needs nonBlocking = false", async () => {
  const out = await runDeno(example("sock_fd_blocking.ts"));
  equal(out.code, 0, out.stderr);
  match(out.stdout, /left non-blocking: cat says exit 1: .*Resource temporarily unavailable/);
  match(out.stdout, /nonBlocking = false: cat says exit 0: late data/);
});
