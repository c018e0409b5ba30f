import { deepEqual, equal } from "node:assert/strict";
import { connectUnix, IpcError, type SocketType } from "../mod.ts";
import { command, spawnReady, tempDir } from "./_helpers.ts";

const cli = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const enc = new TextEncoder();

/** Connects once the listener (a child that binds after it starts) is up. */
async function connectWhenUp(path: string, opts: Parameters<typeof connectUnix>[1] = {}) {
  for (let i = 0; i < 400; i++) {
    try {
      return await connectUnix(path, opts);
    } catch (e) {
      if (!(e instanceof IpcError) || !["ENOENT", "ECONNREFUSED"].includes(e.code)) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`nothing came up at ${path}`);
}

for (const type of ["stream", "seqpacket", "dgram"] as SocketType[]) {
  Deno.test(`ipckit sock listen --type ${type} --json prints each message with the sender's pid`, async () => {
    using dir = tempDir();
    const path = `${dir.path}/l.sock`;
    await using listener = await spawnReady(Deno.execPath(), [
      "run",
      "-A",
      "--no-check",
      cli,
      "sock",
      "listen",
      path,
      "--type",
      type,
      "--count",
      "2",
      "--json",
    ], { ready: null });
    {
      using sock = await connectWhenUp(path, { type });
      if (type === "stream") await sock.writeAll(enc.encode("first\nsecond\n"));
      else {
        await sock.send(enc.encode("first"));
        await sock.send(enc.encode("second"));
      }
      const lines = [JSON.parse(await listener.nextLine()), JSON.parse(await listener.nextLine())];
      deepEqual(lines.map((l) => l.message), ["first", "second"]);
      deepEqual(lines.map((l) => l.pid), [Deno.pid, Deno.pid]);
      equal(lines[0].uid, Deno.uid());
    }
    equal((await listener.process.status).code, 0);
  });
}

Deno.test("ipckit sock send reads stdin and sends to an abstract name", async () => {
  const name = `ipckit-test-${Deno.pid}-cli`;
  await using listener = await spawnReady(Deno.execPath(), [
    "run",
    "-A",
    "--no-check",
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
    "-A",
    "--no-check",
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
});

Deno.test("ipckit sock send exits 1 with one line on stderr when nothing listens, 2 on bad usage", async () => {
  using dir = tempDir();
  const out = await command(Deno.execPath(), [
    "run",
    "-A",
    "--no-check",
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
    "-A",
    "--no-check",
    cli,
    "sock",
    "listen",
    "x",
    "--type",
    "raw",
  ], { stderr: "null" }).output();
  equal(bad.code, 2);
});
