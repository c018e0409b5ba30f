/**
 * Channels between processes: C and Deno peers, crashes, aarch64, examples.
 */
import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  type ChannelReceiver,
  createChannel,
  createChannelMemfd,
  openChannel,
  removeChannel,
} from "../lib/channel.ts";
import { statChannel } from "../lib/_channel_inspect.ts";
import { HEADER_SIZE, MAGIC, OFF, slotSizeFor } from "../lib/_channel_layout.ts";
import { denoArgs, ipcSnapshot, spawnReady } from "./_helpers.ts";
import { child, code, cPeer, patterned, peerSource, withName } from "./_channel_helpers.ts";

Deno.test("the C header's layout matches lib/_channel_layout.ts", async () => {
  const out = await new Deno.Command(await cPeer(), { args: ["layout"], stdout: "piped" }).output();
  const c = JSON.parse(new TextDecoder().decode(out.stdout));
  for (const [k, v] of Object.entries(OFF)) equal(c[k], v, k);
  equal(c.HEADER_SIZE, HEADER_SIZE);
  equal(c.MAGIC, MAGIC);
  equal(c.slot100, slotSizeFor(100));
});

Deno.test({
  name: "the C header's layout is the same on aarch64 (cross-compiled, under qemu)",
  ignore: !(() => {
    try {
      return new Deno.Command("sh", {
        args: ["-c", "command -v aarch64-linux-gnu-gcc && command -v qemu-aarch64"],
        stdout: "null",
      }).outputSync().success;
    } catch {
      return false;
    }
  })(),
  async fn() {
    const src = new URL(`./fixtures/${peerSource}`, import.meta.url).pathname;
    const bin = await Deno.makeTempFile({ prefix: "ipckit-test-chpeer-" });
    try {
      const built = await new Deno.Command("aarch64-linux-gnu-gcc", {
        args: ["-O2", "-o", bin, src],
        stderr: "piped",
      }).output();
      ok(built.success, new TextDecoder().decode(built.stderr));
      const out = await new Deno.Command("qemu-aarch64", {
        args: ["-L", "/usr/aarch64-linux-gnu", bin, "layout"],
        stdout: "piped",
      }).output();
      const c = JSON.parse(new TextDecoder().decode(out.stdout));
      for (const [k, v] of Object.entries(OFF)) equal(c[k], v, k);
      equal(c.HEADER_SIZE, HEADER_SIZE);
    } finally {
      Deno.removeSync(bin);
    }
  },
});

Deno.test("a memfd channel passes to a C child by inheritance (Deno → C)", async () => {
  using tx = createChannelMemfd("send", { capacity: 16, messageSize: 64 });
  const fd = tx.handle.fd;
  tx.handle.closeOnExec = false;
  let c;
  try {
    c = await spawnReady(await cPeer(), ["recv", `fd:${fd}`, "20000"]);
  } finally {
    tx.handle.closeOnExec = true;
  }
  await using proc = c;
  const batch: Uint8Array[] = [];
  for (let i = 0; i < 20000; i++) {
    batch.push(patterned(i, 8 + (i % 57)));
    if (batch.length === 64) await tx.sendMany(batch.splice(0), { timeout: 10000 });
  }
  await tx.sendMany(batch, { timeout: 10000 });
  equal(await proc.nextLine(), "ok 20000");
});

Deno.test("C → Deno streaming through a small ring: every message intact, in order", () =>
  withName(async (name) => {
    using rx = createChannel(name, "receive", { capacity: 8, messageSize: 256 });
    await using proc = await spawnReady(await cPeer(), ["send", name, "30000", "200"]);
    for (let i = 0; i < 30000; i++) {
      const m = await rx.receive({ timeout: 10000 });
      deepEqual(m.bytes, patterned(i, 200), `message ${i}`);
    }
    equal(await proc.nextLine(), "sent");
    await rejects(rx.receive({ timeout: 5000 }), (e) => code(e) === "EPIPE");
  }));

Deno.test("request/response with a C echo peer, both sides sleeping in turn", () =>
  withName(async (name) => {
    const respName = name + "r";
    using req = createChannel(name, "send", { capacity: 4, messageSize: 64 });
    using resp = createChannel(respName, "receive", { capacity: 4, messageSize: 64 });
    try {
      await using proc = await spawnReady(await cPeer(), ["echo", name, respName]);
      for (let i = 0; i < 200; i++) {
        await req.send(`request ${i}`, { timeout: 5000 });
        equal((await resp.receive({ timeout: 5000 })).text(), `request ${i}`);
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5)); // let the peer park
      }
      req.close();
      equal(await proc.nextLine(), "echoed 200");
    } finally {
      removeChannel(respName);
    }
  }));

Deno.test("a sender killed mid-write exposes no torn message and reads as EPIPE", () =>
  withName(async (name) => {
    using rx = createChannel(name, "receive", { capacity: 8, messageSize: 64 });
    await using proc = await spawnReady(await cPeer(), ["torn", name]);
    await proc.process.status;
    for (let i = 0; i < 3; i++) deepEqual(rx.tryReceive()?.bytes, patterned(i, 64));
    throws(() => rx.tryReceive(), (e) => code(e) === "EPIPE" && /gone/.test(String(e)));
    await rejects(rx.receive({ timeout: 5000 }), (e) => code(e) === "EPIPE");
    equal(statChannel(name).fill, 0);
  }));

Deno.test("a Deno sender SIGKILLed while streaming: all messages intact, then EPIPE", () =>
  withName(async (name) => {
    using rx = createChannel(name, "receive", { capacity: 64, messageSize: 64 });
    const [exe, args] = denoArgs(child, ["flood", name]);
    await using proc = await spawnReady(exe, args);
    let i = 0;
    const t0 = performance.now();
    let err: unknown;
    setTimeout(() => proc.process.kill("SIGKILL"), 300);
    try {
      for (;;) {
        const m = await rx.receive({ timeout: 5000 });
        deepEqual(m.bytes, patterned(i, 64), `message ${i}`);
        i++;
      }
    } catch (e) {
      err = e;
    }
    equal(code(err), "EPIPE");
    ok(i > 0 && performance.now() - t0 < 5000);
    // A new sender takes the dead one's place.
    using tx = openChannel(name, "send");
    equal(tx.trySend("again"), true);
    equal(rx.tryReceive()?.text(), "again");
  }));

Deno.test("Deno → Deno between processes, and C → Deno by name", () =>
  withName(async (name) => {
    const rx: ChannelReceiver = createChannel(name, "receive", { capacity: 32, messageSize: 100 });
    rx.close();
    const [exe, rargs] = denoArgs(child, ["recv", name, "10000"]);
    await using reader = await spawnReady(exe, rargs);
    const [, sargs] = denoArgs(child, ["send", name, "10000", "100"]);
    await using writer = await spawnReady(exe, sargs);
    equal(await reader.nextLine(), "ok 10000");
    equal(await writer.nextLine(), "sent");
  }));

Deno.test("examples/channel_records.ts passes records from Deno to C", async () => {
  const before = ipcSnapshot();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--no-check",
      new URL("../examples/channel_records.ts", import.meta.url).pathname,
      "3000",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  ok(out.success, new TextDecoder().decode(out.stderr));
  equal(text, "records 3000 sum 2249250.0 last rec-2999");
  deepEqual(ipcSnapshot(), before);
});

Deno.test("examples/channel_request_response.ts answers every request", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--no-check",
      new URL("../examples/channel_request_response.ts", import.meta.url).pathname,
      "300",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  ok(out.success, new TextDecoder().decode(out.stderr));
  ok(text.startsWith("300/300 answers correct"), text);
  ok(new TextDecoder().decode(out.stderr).includes("served 300 requests"));
});

const armDeno = new URL("../.cache/deno-arm64/deno", import.meta.url).pathname;

Deno.test({
  name: "channels (futex sleep and wake included) work on aarch64 (its Deno under qemu)",
  ignore: Deno.build.arch !== "x86_64" || !(() => {
    try {
      Deno.statSync(armDeno);
      return new Deno.Command("sh", { args: ["-c", "command -v qemu-aarch64"], stdout: "null" })
        .outputSync().success;
    } catch {
      return false;
    }
  })(),
  async fn() {
    const smoke = new URL("./fixtures/channel_arch_smoke.ts", import.meta.url).pathname;
    const out = await new Deno.Command("qemu-aarch64", {
      args: ["-L", "/usr/aarch64-linux-gnu", armDeno, "run", "-A", "--no-check", smoke],
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_UPDATE_CHECK: "1" },
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const text = new TextDecoder().decode(out.stdout).trim();
    deepEqual(JSON.parse(text.split("\n").pop()!), {
      arch: "aarch64",
      full: null,
      first: "abcd",
      late: "late",
      woke: true,
      timeout: "ETIMEDOUT",
      closed: "EPIPE",
    });
  },
});

Deno.test("a Python receiver through mmap gets every message (Deno → Python)", () =>
  withName(async (name) => {
    using tx = createChannel(name, "send", { capacity: 8, messageSize: 64 });
    const py = new URL("./fixtures/channel_peer.py", import.meta.url).pathname;
    await using proc = await spawnReady("python3", [py, "recv", name, "2000"]);
    for (let i = 0; i < 2000; i++) await tx.send(patterned(i, 4 + (i % 60)), { timeout: 10000 });
    equal(await proc.nextLine(), "ok 2000");
  }));
