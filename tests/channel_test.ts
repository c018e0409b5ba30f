import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  createChannel,
  createChannelMemfd,
  openChannel,
  openChannelFd,
  removeChannel,
} from "../lib/channel.ts";
import { createSharedMemory } from "../lib/shm.ts";
import { ringOf } from "../lib/_channel_base.ts";
import { listIpcObjects } from "../lib/inspect.ts";
import { ipckitInProcess, uniqueName } from "./_helpers.ts";
import { code, withName } from "./_channel_helpers.ts";

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
    // null is not a default, whether the channel is created or opened-or-created.
    throws(() => createChannel(name, "send", { mode: null as never }), (e) => code(e) === "EINVAL");
    throws(
      () => openChannel(name, "send", { create: { mode: null as never } }),
      (e) => code(e) === "EINVAL",
    );
    using tx = createChannel(name, "send", { capacity: 2, messageSize: 4 });
    using rx = openChannel(name, "receive");
    throws(() => tx.trySend("12345"), (e) => code(e) === "EINVAL");
    await rejects(rx.receive({ timeout: -1 }), (e) => code(e) === "EINVAL");
    await rejects(rx.receive({ timeout: null as unknown as number }), (e) => code(e) === "EINVAL");
    throws(() => rx.tryReceiveInto(new Uint8Array(3)), (e) => code(e) === "EINVAL");
    // messages(null) was a TypeError on the first step.
    await rejects(rx.messages(null as never).next(), (e) => code(e) === "EINVAL");
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

/**
 * Stages the race the benchmark hit: the receiver finds the ring empty, the
 * sender publishes `last` and closes, then the receiver's peer check sees the
 * closed bit. The sender acts inside the receiver's `checkPeer` call number
 * `at` (white-box: lib/_channel_ring.ts).
 */
function closeDuringPeerCheck(name: string, last: string, at: number) {
  const rx = createChannel(name, "receive", { capacity: 8, messageSize: 8 });
  const tx = openChannel(name, "send");
  rx.remove();
  const ring = ringOf(rx);
  const check = ring.checkPeer.bind(ring);
  let calls = 0;
  ring.checkPeer = () => {
    if (++calls === at) {
      tx.trySend(last);
      tx.close();
    }
    check();
  };
  return rx;
}

Deno.test("messages a sender publishes just before it closes are received, not lost behind EPIPE", () =>
  withName((name) => {
    using rx = closeDuringPeerCheck(name, "late", 1);
    equal(rx.tryReceive()?.text(), "late");
    throws(() => rx.tryReceive(), (e) => code(e) === "EPIPE");
  }));

Deno.test("the same race in a waiting receive(): the last message arrives, then EPIPE", () =>
  withName(async (name) => {
    using rx = closeDuringPeerCheck(name, "last", 3);
    equal((await rx.receive({ timeout: 2000 })).text(), "last");
    await rejects(rx.receive({ timeout: 1000 }), (e) => code(e) === "EPIPE");
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

Deno.test("a memfd channel's descriptor passes over a Unix socket", async () => {
  const { createSocketPair } = await import("../lib/socket.ts");
  const { receiveFds, sendFds } = await import("../lib/fdpass.ts");
  const [a, b] = createSocketPair();
  try {
    using tx = createChannelMemfd("send", { capacity: 4, messageSize: 32 });
    await sendFds(a, [tx.handle.fd], { timeout: 1000 });
    const [received] = await receiveFds(b, { timeout: 1000 });
    using rx = openChannelFd(received.release(), "receive");
    await tx.send("over a socket");
    equal((await rx.receive({ timeout: 1000 })).text(), "over a socket");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("ipckit ls lists channels (kind channel) and ipckit rm removes one", () =>
  withName(async (name) => {
    using tx = createChannel(name, "send", { capacity: 8, messageSize: 64 });
    tx.trySend("x");
    const ls = await ipckitInProcess(["ls", "--kind", "channel", "--json"]);
    equal(ls.code, 0, ls.stderr);
    const rec = ls.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((r) => r.name === name);
    equal(rec?.kind, "channel");
    equal(rec?.messages, 1);
    equal(rec?.mode, "0600");
    equal(rec?.lspid, Deno.pid, "the attached sender");
    equal((await ipckitInProcess(["rm", "channel", name])).code, 0);
    equal(listIpcObjects({ kind: "channel" }).some((o) => o.name === name), false);
  }));

Deno.test("a channel larger than the host can hold is refused before allocating (ENOMEM, MemTotal)", () => {
  throws(
    () => createChannelMemfd("send", { capacity: 2 ** 20, messageSize: 2 ** 15 }),
    (e) =>
      (e as { code?: string; limit?: string }).code === "ENOMEM" &&
      (e as { limit?: string }).limit === "MemTotal",
  );
});
