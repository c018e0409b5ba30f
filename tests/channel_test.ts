import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  type ChannelReceiver,
  createChannel,
  createChannelMemfd,
  openChannel,
  openChannelFd,
  removeChannel,
  statChannel,
} from "../lib/channel.ts";
import { createSharedMemory } from "../lib/shm.ts";
import { HEADER_SIZE, MAGIC, OFF, slotSizeFor } from "../lib/_channel_layout.ts";
import { buildC, denoArgs, ipcSnapshot, spawnReady, uniqueName } from "./_helpers.ts";

const peerSource = "channel_peer.c";
let peer: Promise<string> | undefined;
const cPeer = () => peer ??= buildC(peerSource);
const child = new URL("./fixtures/channel_child.ts", import.meta.url);

/** Runs `fn` with a fresh channel name and checks nothing is left in /dev/shm. */
async function withName(fn: (name: string) => Promise<void> | void): Promise<void> {
  const before = ipcSnapshot();
  const name = "/" + uniqueName("ch");
  try {
    await fn(name);
  } finally {
    try {
      removeChannel(name);
    } catch { /* removed by the test */ }
  }
  deepEqual(ipcSnapshot(), before, "IPC objects leaked");
}

function code(e: unknown): string {
  return (e as { code?: string }).code ?? String(e);
}

function patterned(seq: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, seq, true);
  for (let j = 4; j < size; j++) b[j] = (seq + j) & 0xff;
  return b;
}

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

Deno.test("createChannel() is exclusive, exact-mode, and openChannel() finds it", () =>
  withName((name) => {
    using tx = createChannel(name, "send", { capacity: 4, messageSize: 32, mode: 0o640 });
    equal(Deno.statSync(`/dev/shm${name}`).mode! & 0o777, 0o640);
    throws(() => createChannel(name, "receive"), (e) => code(e) === "EEXIST");
    using rx = openChannel(name, "receive");
    equal(rx.capacity, 4);
    equal(rx.messageSize, 32);
    equal(tx.trySend("hi"), true);
    equal(rx.tryReceive()?.text(), "hi");
    equal(rx.tryReceive(), null);
    throws(() => openChannel(name, "send"), (e) => code(e) === "EBUSY");
    tx.remove();
    throws(() => openChannel(name, "receive"), (e) => code(e) === "ENOENT");
  }));

Deno.test("openChannel() with create opens or creates", () =>
  withName((name) => {
    using a = openChannel(name, "send", { create: { capacity: 8, messageSize: 16 } });
    using b = openChannel(name, "receive", { create: { capacity: 2, messageSize: 2 } });
    equal(b.capacity, 8);
    a.remove();
  }));

Deno.test("openChannel() refuses an untrusted object and one that is not a channel", () =>
  withName((name) => {
    createChannel(name, "send", { capacity: 2, messageSize: 8 }).close();
    Deno.chmodSync(`/dev/shm${name}`, 0o666);
    throws(() => openChannel(name, "receive"), (e) => code(e) === "EPERM");
    openChannel(name, "receive", { trust: "any" }).close();
    removeChannel(name);
    using shm = createSharedMemory(name, { size: 4096 });
    // All zeros: a channel whose creator has not written its header yet.
    throws(() => openChannel(name, "receive"), (e) => code(e) === "EAGAIN");
    shm.bytes.set([1, 2, 3, 4]);
    throws(() => openChannel(name, "receive"), (e) => code(e) === "EPROTO");
  }));

Deno.test("bad arguments are EINVAL before any syscall", () =>
  withName(async (name) => {
    throws(() => createChannel(name, "send", { capacity: 3 }), (e) => code(e) === "EINVAL");
    throws(() => createChannel(name, "send", { messageSize: 0 }), (e) => code(e) === "EINVAL");
    throws(() => createChannel(name, "both" as "send"), (e) => code(e) === "EINVAL");
    throws(() => createChannel("noslash", "send"), (e) => code(e) === "EINVAL");
    using tx = createChannel(name, "send", { capacity: 2, messageSize: 4 });
    using rx = openChannel(name, "receive");
    throws(() => tx.trySend("12345"), (e) => code(e) === "EINVAL");
    await rejects(rx.receive({ timeout: -1 }), (e) => code(e) === "EINVAL");
    await rejects(rx.receive({ timeout: null as unknown as number }), (e) => code(e) === "EINVAL");
    throws(() => rx.tryReceiveInto(new Uint8Array(3)), (e) => code(e) === "EINVAL");
    tx.remove();
  }));

Deno.test("try forms return null when they would wait; waits time out and abort", () =>
  withName(async (name) => {
    using tx = createChannel(name, "send", { capacity: 2, messageSize: 8 });
    using rx = openChannel(name, "receive");
    tx.remove();
    equal(rx.tryReceive(), null);
    equal(tx.trySend("a"), true);
    equal(tx.trySend("b"), true);
    equal(tx.trySend("c"), null);
    equal(tx.trySendMany(["c"]), null);
    const t0 = performance.now();
    await rejects(tx.send("c", { timeout: 50 }), (e) => code(e) === "ETIMEDOUT");
    ok(performance.now() - t0 >= 45);
    deepEqual((await rx.receiveMany()).map((m) => m.text()), ["a", "b"]);
    await rejects(rx.receive({ timeout: 0 }), (e) => code(e) === "ETIMEDOUT");
    const ac = new AbortController();
    const p = rx.receive({ signal: ac.signal });
    setTimeout(() => ac.abort(new Error("stop")), 20);
    await rejects(p, /stop/);
  }));

Deno.test("a waiting receive wakes when a message arrives", () =>
  withName(async (name) => {
    using tx = createChannel(name, "send", { capacity: 4, messageSize: 8 });
    using rx = openChannel(name, "receive");
    tx.remove();
    const p = rx.receive({ timeout: 5000 });
    setTimeout(() => tx.trySend("late"), 300);
    const t0 = performance.now();
    equal((await p).text(), "late");
    ok(performance.now() - t0 < 1000);
    const buf = new Uint8Array(8);
    setTimeout(() => tx.trySend("into"), 30);
    equal((await rx.receiveInto(buf, { timeout: 5000 })).length, 4);
    equal(new TextDecoder().decode(buf.subarray(0, 4)), "into");
  }));

Deno.test("reserve/commit and receiveView/release move messages in place", () =>
  withName(async (name) => {
    using tx = createChannel(name, "send", { capacity: 2, messageSize: 16 });
    using rx = openChannel(name, "receive");
    tx.remove();
    const slot = await tx.reserve({ timeout: 1000 });
    equal(slot.length, 16);
    const n = new TextEncoder().encodeInto("in place", slot).written;
    throws(() => tx.trySend("x"), (e) => code(e) === "EINVAL");
    equal(rx.tryReceiveView(), null);
    tx.commit(n);
    const view = await rx.receiveView({ timeout: 1000 });
    equal(new TextDecoder().decode(view), "in place");
    throws(() => rx.tryReceive(), (e) => code(e) === "EINVAL");
    rx.release();
    throws(() => rx.release(), (e) => code(e) === "EINVAL");
    throws(() => tx.commit(1), (e) => code(e) === "EINVAL");
  }));

Deno.test("sendMany waits for space; receiveEach visits in place", () =>
  withName(async (name) => {
    using tx = createChannel(name, "send", { capacity: 4, messageSize: 8 });
    using rx = openChannel(name, "receive");
    tx.remove();
    const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const sending = tx.sendMany(sent, { timeout: 5000 });
    const got: string[] = [];
    while (got.length < 50) {
      await rx.receiveEach(
        (u8, off, len) => got.push(new TextDecoder().decode(u8.subarray(off, off + len))),
        { timeout: 5000, max: 3 },
      );
    }
    await sending;
    deepEqual(got, sent);
  }));

Deno.test("messages() ends when the sender closes; receive after that is EPIPE", () =>
  withName(async (name) => {
    using rx = createChannel(name, "receive", { capacity: 8, messageSize: 8 });
    const tx = openChannel(name, "send");
    rx.remove();
    tx.trySendMany(["a", "b"]);
    setTimeout(() => tx.close(), 30);
    const got: string[] = [];
    for await (const m of rx.messages()) got.push(m.text());
    deepEqual(got, ["a", "b"]);
    await rejects(rx.receive({ timeout: 1000 }), (e) => code(e) === "EPIPE");
    throws(() => rx.tryReceive(), (e) => code(e) === "EPIPE");
  }));

Deno.test("sending to a closed receiver is EPIPE; close() rejects pending waits", () =>
  withName(async (name) => {
    using tx = createChannel(name, "send", { capacity: 2, messageSize: 8 });
    const rx = openChannel(name, "receive");
    tx.remove();
    const p = rx.receive();
    setTimeout(() => rx.close(), 20);
    await rejects(p, (e) => code(e) === "EBADF");
    throws(() => tx.trySend("x"), (e) => code(e) === "EPIPE");
    throws(() => rx.tryReceive(), (e) => code(e) === "EBADF");
    rx.close();
  }));

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

Deno.test("openChannelFd() maps a received descriptor and checks it", () => {
  using tx = createChannelMemfd("send", { capacity: 2, messageSize: 8 });
  using rx = openChannelFd(tx.handle.dup().release(), "receive");
  tx.trySend("x");
  equal(rx.tryReceive()?.text(), "x");
  const shmName = "/" + uniqueName("notch");
  using shm = createSharedMemory(shmName, { size: 4096 });
  removeChannel(shmName); // shm_unlink: any shared-memory name
  shm.bytes.set([1, 2, 3, 4]);
  throws(() => openChannelFd(shm.handle.dup().release(), "receive"), (e) => code(e) === "EPROTO");
});

Deno.test("ipckit channel create/send/stat/ls/receive/rm, in process", () =>
  withName(async (name) => {
    const { main, captureIo } = await import("../lib/cli/main.ts");
    const run = async (...args: string[]) => {
      const io = captureIo();
      const code = await main(["channel", ...args], io);
      return { code, out: io.stdoutText, err: io.stderrText };
    };
    equal((await run("create", name, "--max-messages", "8", "--message-size", "32")).code, 0);
    const early = run("receive", name, "--timeout", "5000");
    equal((await run("send", name, "one", "two")).code, 0);
    equal((await early).out, "one\n");
    const st = await run("stat", name, "--json");
    deepEqual(
      (({ fill, capacity, messageSize, senderClosed }) => ({
        fill,
        capacity,
        messageSize,
        senderClosed,
      }))(JSON.parse(st.out)),
      { fill: 1, capacity: 8, messageSize: 32, senderClosed: true },
    );
    ok((await run("ls")).out.includes(`${name}  1/8 × 32 B`));
    equal((await run("receive", name, "--json")).out, '{"data":"two"}\n');
    const gone = await run("receive", name, "--timeout", "1000");
    equal(gone.code, 1);
    ok(gone.err.includes("EPIPE"));
    equal((await run("create", name, "--max-messages", "3")).code, 1);
    equal((await run("stat")).code, 2);
    equal((await run("rm", name)).code, 0);
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
