import { deepEqual, equal, match } from "node:assert/strict";
import { bindUnix, connectUnix, IpcError, listenUnix, type SocketType } from "../mod.ts";
import { main } from "../lib/cli/main.ts";
import { captureIo } from "../lib/cli/_common.ts";
import { statPath } from "../lib/_stat.ts";
import { command, ipcTaskFlags, spawnReady, tempDir } from "./_helpers.ts";

const cli = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const enc = new TextEncoder();
const IPC_FLAGS = ipcTaskFlags(); // what a user of the CLI grants, never -A

/** Connects once the listener (started concurrently) is up. */
async function connectWhenUp(path: string, opts: Parameters<typeof connectUnix>[1] = {}) {
  for (let i = 0; i < 400; i++) {
    try {
      return await connectUnix(path, opts);
    } catch (e) {
      if (!(e instanceof IpcError) || !["ENOENT", "ECONNREFUSED"].includes(e.code)) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  throw new Error(`nothing came up at ${path}`);
}

for (const type of ["stream", "seqpacket", "dgram"] as SocketType[]) {
  Deno.test(`ipckit sock listen --type ${type} --json prints each message with the sender's pid`, async () => {
    using dir = tempDir();
    const path = `${dir.path}/l.sock`;
    const io = captureIo();
    const listening = main(["sock", "listen", path, "--type", type, "--count", "2", "--json"], io);
    {
      using sock = await connectWhenUp(path, { type });
      if (type === "stream") await sock.writeAll(enc.encode("first\nsecond\n"));
      else {
        await sock.send(enc.encode("first"));
        await sock.send(enc.encode("second"));
      }
      equal(await listening, 0);
    }
    const lines = io.stdoutText.trim().split("\n").map((l) => JSON.parse(l));
    deepEqual(lines.map((l) => l.message), ["first", "second"]);
    deepEqual(lines.map((l) => l.pid), [Deno.pid, Deno.pid]);
    equal(lines[0].uid, Deno.uid());
    equal(io.stderrText, "");
  });
}

Deno.test("ipckit sock listen --mode sets the socket file's mode and removes it on exit", async () => {
  using dir = tempDir();
  const path = `${dir.path}/m.sock`;
  const io = captureIo();
  const listening = main(["sock", "listen", path, "--mode", "0660", "--count", "1"], io);
  {
    using sock = await connectWhenUp(path);
    equal(statPath(path).mode & 0o777, 0o660);
    await sock.writeAll(enc.encode("hello\n"));
    equal(await listening, 0);
  }
  equal(io.stdoutText, "hello\n");
  let gone = false;
  try {
    statPath(path);
  } catch (e) {
    gone = e instanceof Deno.errors.NotFound;
  }
  equal(gone, true);
});

Deno.test("ipckit sock listen --message-size refuses a longer datagram and keeps serving", async () => {
  const name = `ipckit-test-${Deno.pid}-cli-size`;
  const io = captureIo();
  const listening = main(
    [
      "sock",
      "listen",
      name,
      "--abstract",
      "--type",
      "dgram",
      "--message-size",
      "4",
      "--count",
      "1",
    ],
    io,
  );
  using sock = await connectWhenUp(name, { abstract: true, type: "dgram" });
  await sock.send(enc.encode("too long"));
  await sock.send(enc.encode("ok"));
  equal(await listening, 0);
  equal(io.stdoutText, "ok\n");
  match(io.stderrText, /EMSGSIZE/);
});

for (const type of ["dgram", "stream"] as SocketType[]) {
  Deno.test(`ipckit sock listen --type ${type} --timeout exits 124 when the messages do not come`, async () => {
    using dir = tempDir();
    const path = `${dir.path}/t.sock`;
    const io = captureIo();
    const listening = main(
      ["sock", "listen", path, "--type", type, "--count", "2", "--timeout", "150"],
      io,
    );
    using sock = await connectWhenUp(path, { type });
    if (type === "stream") await sock.writeAll(enc.encode("only one\n"));
    else await sock.send(enc.encode("only one"));
    equal(await listening, 124);
    equal(io.stdoutText, "only one\n");
    match(io.stderrText, /ETIMEDOUT/);
    // The listener closed the connection it was still serving.
    if (type === "stream") equal((await sock.receive({ timeout: 1000 })).end, true);
  });
}

Deno.test("ipckit sock send sends each argument as one message", async () => {
  const name = `ipckit-test-${Deno.pid}-cli-args`;
  using inbox = bindUnix(name, { abstract: true });
  const io = captureIo();
  equal(await main(["sock", "send", name, "--abstract", "--type", "dgram", "a", "bb"], io), 0);
  deepEqual([(await inbox.receive()).text(), (await inbox.receive()).text()], ["a", "bb"]);
});

Deno.test("ipckit sock send reads stdin and sends one datagram per line", async () => {
  const name = `ipckit-test-${Deno.pid}-cli-stdin`;
  using inbox = bindUnix(name, { abstract: true });
  const io = captureIo("line one\nline two\n");
  equal(await main(["sock", "send", name, "--abstract", "--type", "dgram"], io), 0);
  deepEqual(
    [(await inbox.receive()).text(), (await inbox.receive()).text()],
    ["line one", "line two"],
  );
});

Deno.test("ipckit sock send --timeout also bounds sending stdin to a receiver that does not read", async () => {
  const name = `ipckit-test-${Deno.pid}-cli-full`;
  using _inbox = bindUnix(name, { abstract: true }); // never read: its queue fills up
  const io = captureIo("x\n".repeat(100_000));
  const args = ["sock", "send", name, "--abstract", "--type", "dgram", "--timeout", "200"];
  equal(await main(args, io), 124, io.stderrText);
});

Deno.test("ipckit sock connect --message-size takes a size with a unit, as listen does", async () => {
  const name = `ipckit-test-${Deno.pid}-cli-connect-size`;
  using _inbox = bindUnix(name, { abstract: true });
  const io = captureIo("");
  const args = ["sock", "connect", name, "--abstract", "--type", "dgram", "--message-size", "4K"];
  equal(await main(args, io), 0, io.stderrText);
});

Deno.test("ipckit sock usage errors exit 2 with one line and a hint", async () => {
  for (
    const args of [
      ["sock", "listen", "x", "--type", "raw"],
      ["sock", "listen"],
      ["sock", "listen", "x", "--count", "0"],
      ["sock", "listen", "x", "--message-size", "big"],
      ["sock", "listen", "x", "--mode", "999"],
      ["sock", "listen", "x", "--timeout", "-1"],
      ["sock", "send"],
    ]
  ) {
    const io = captureIo();
    equal(await main(args, io), 2, args.join(" "));
    const err = io.stderrText.trim().split("\n");
    equal(err.length, 2, io.stderrText);
    match(err[1], /--help/);
  }
});

Deno.test("ipckit sock --help prints usage and exits 0", async () => {
  for (const verb of ["listen", "send"]) {
    const io = captureIo();
    equal(await main(["sock", verb, "--help"], io), 0);
    match(io.stdoutText, new RegExp(`^Usage: ipckit sock ${verb} `));
  }
});

Deno.test("ipckit sock send exits 1 with one line on stderr when nothing listens", async () => {
  using dir = tempDir();
  const io = captureIo();
  equal(await main(["sock", "send", `${dir.path}/none.sock`, "x"], io), 1);
  const err = io.stderrText.trim().split("\n");
  equal(err.length, 1);
  match(err[0], /ENOENT/);
});

// End to end: real processes with the `ipc` task's permissions.

Deno.test("e2e: ipckit sock listen in one process prints what ipckit sock send sends from another", async () => {
  const name = `ipckit-test-${Deno.pid}-cli-e2e`;
  await using listener = await spawnReady(Deno.execPath(), [
    "run",
    ...IPC_FLAGS,
    cli,
    "sock",
    "listen",
    name,
    "--abstract",
    "--type",
    "dgram",
    "--count",
    "2",
  ], { ready: null });
  // Wait until the listener is bound: a dgram connect succeeds only then.
  (await connectWhenUp(name, { abstract: true, type: "dgram" })).close();
  const proc = command(Deno.execPath(), [
    "run",
    ...IPC_FLAGS,
    cli,
    "sock",
    "send",
    name,
    "--abstract",
    "--type",
    "dgram",
  ], { stdin: "piped" }).spawn();
  const w = proc.stdin.getWriter();
  await w.write(enc.encode("line one\nline two\n"));
  await w.close();
  equal((await proc.status).code, 0);
  deepEqual([await listener.nextLine(), await listener.nextLine()], ["line one", "line two"]);
  equal((await listener.process.status).code, 0);
});

Deno.test("e2e: ipckit sock send exits 1 with one line on stderr, 2 on bad usage", async () => {
  using dir = tempDir();
  const out = await command(Deno.execPath(), [
    "run",
    ...IPC_FLAGS,
    cli,
    "sock",
    "send",
    `${dir.path}/none.sock`,
    "x",
  ], { stderr: "piped" }).output();
  equal(out.code, 1);
  const err = new TextDecoder().decode(out.stderr).trim().split("\n");
  equal(err.length, 1);
  equal(err[0].includes("ENOENT"), true);
  const bad = await command(Deno.execPath(), [
    "run",
    ...IPC_FLAGS,
    cli,
    "sock",
    "listen",
    "x",
    "--type",
    "raw",
  ], { stderr: "null" }).output();
  equal(bad.code, 2);
});

/** Waits until `path` exists (a listener came up). */
async function untilExists(path: string) {
  for (let i = 0; i < 1000; i++) {
    try {
      statPath(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error(`${path} never appeared`);
}

function gone(path: string): boolean {
  try {
    statPath(path);
    return false;
  } catch (e) {
    return e instanceof Deno.errors.NotFound;
  }
}

for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
  for (const type of ["stream", "dgram"]) {
    Deno.test(`e2e: ipckit sock listen --type ${type} removes its socket file on ${signal}`, async () => {
      using dir = tempDir();
      const path = `${dir.path}/sig.sock`;
      const child = command(Deno.execPath(), [
        "run",
        ...IPC_FLAGS,
        cli,
        "sock",
        "listen",
        path,
        "--type",
        type,
      ], { stdout: "piped", stderr: "piped" }).spawn();
      await untilExists(path);
      child.kill(signal);
      const out = await child.output();
      equal(out.code, code, new TextDecoder().decode(out.stderr));
      equal(gone(path), true);
    });
  }
}

Deno.test("ipckit sock listen --once copies one stream connection as is, then exits", async () => {
  using dir = tempDir();
  const path = `${dir.path}/once.sock`;
  const io = captureIo();
  const listening = main(["sock", "listen", path, "--once"], io);
  const data = new Uint8Array(3 << 20).map((_, i) => (i * 7) & 0xff); // binary, no newlines kept
  {
    using c = await connectWhenUp(path);
    await c.writeAll(data);
    c.shutdown("write");
    equal(await listening, 0);
  }
  equal(io.stdoutText.length > 0, true);
  equal(gone(path), true);
  // A second client finds nothing: the listener is gone.
  equal(await main(["sock", "send", path, "x"], captureIo()), 1);
});

Deno.test("ipckit sock listen --once --type dgram takes one datagram", async () => {
  const name = `@ipckit-test-once-${Deno.pid}`;
  const io = captureIo();
  const listening = main(["sock", "listen", name, "--type", "dgram", "--once"], io);
  using c = await connectWhenUp(name, { type: "dgram" });
  await c.send(enc.encode("one"));
  await c.send(enc.encode("two")).catch(() => {});
  equal(await listening, 0);
  equal(io.stdoutText, "one\n");
});

Deno.test("e2e: ipckit sock send streams stdin: the first line arrives before stdin ends", async () => {
  using dir = tempDir();
  const path = `${dir.path}/stream.sock`;
  using server = listenUnix(path);
  const child = command(Deno.execPath(), ["run", ...IPC_FLAGS, cli, "sock", "send", path], {
    stdin: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(enc.encode("first line\n"));
  using conn = await server.accept({ timeout: 10000 });
  const m = await conn.receive({ timeout: 10000 });
  equal(new TextDecoder().decode(m.bytes), "first line\n"); // stdin is still open
  await w.write(enc.encode("second\n"));
  await w.close();
  equal(new TextDecoder().decode(await conn.readAll({ timeout: 10000 })), "second\n");
  equal((await child.output()).code, 0);
});

Deno.test("ipckit sock connect is bidirectional on a stream, like socat - UNIX-CONNECT:", async () => {
  using dir = tempDir();
  const path = `${dir.path}/bidi.sock`;
  using server = listenUnix(path);
  const io = captureIo("question\n");
  const running = main(["sock", "connect", path], io);
  {
    using conn = await server.accept({ timeout: 5000 });
    equal(new TextDecoder().decode(await conn.readAll({ timeout: 5000 })), "question\n");
    await conn.writeAll(enc.encode("answer\n"));
  }
  equal(await running, 0, io.stderrText);
  equal(io.stdoutText, "answer\n");
});

Deno.test("ipckit sock connect --type dgram gets the answers of socat UNIX-RECVFROM", {
  ignore: (() => {
    try {
      Deno.statSync("/usr/bin/socat");
      return false;
    } catch {
      console.log("skipping: socat is not installed (Debian package socat)");
      return true;
    }
  })(),
}, async () => {
  using dir = tempDir();
  const path = `${dir.path}/rpc.sock`;
  const socat = new Deno.Command("socat", {
    args: [`UNIX-RECVFROM:${path},fork`, "SYSTEM:tr a-z A-Z"],
    stderr: "piped",
  }).spawn();
  try {
    await untilExists(path);
    const io = captureIo("ping\npong\n");
    equal(await main(["sock", "connect", path, "--type", "dgram"], io), 0, io.stderrText);
    equal(io.stdoutText.split("\n").filter(Boolean).sort().join(","), "PING,PONG");
  } finally {
    socat.kill();
    await socat.output();
  }
});
