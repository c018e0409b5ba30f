import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  createSysvMessageQueue,
  IpcError,
  openSysvMessageQueue,
  parseSysvKey,
  sysvLimits,
} from "../mod.ts";
import { Message } from "../lib/message.ts";
import { asNobodyTest, evalAsNobody, spawnReady } from "./_helpers.ts";
import { cPeer, ipcmk, liveIds, runPeer, sysvTest, tool } from "./_sysv.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function code(c: string) {
  return (e: unknown) => e instanceof IpcError && e.code === c;
}

Deno.test(
  "createSysvMessageQueue() makes a private 0600 queue that ipcs shows",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    equal(q.key, 0);
    const st = q.stat();
    equal(st.perm.mode, 0o600);
    equal(st.perm.uid, Deno.uid());
    equal(st.messages, 0);
    const row = (await tool("ipcs", ["-q"])).split("\n").find((l) =>
      l.split(/\s+/)[1] === String(q.id)
    );
    ok(row, "ipcs lists the queue");
    equal(row!.split(/\s+/)[3], "600");
  }),
);

Deno.test(
  "a send() waiting for room keeps its own message while the handle sends others",
  sysvTest(async (t) => {
    // queueBytes 8: one 8-byte message fills the queue.
    using q = createSysvMessageQueue({ queueBytes: 8, removeOnClose: true });
    t.add("msg", q.id);
    equal(q.trySend("AAAAAAAA"), true);
    const waiting = q.send("BBBBBBBB", { timeout: 5000 });
    // The handle's reusable send buffer now holds "CCCCCCCC"; the queue is still full.
    equal(q.trySend("CCCCCCCC"), null);
    equal(q.tryReceive()?.text(), "AAAAAAAA");
    await waiting;
    equal((await q.receive({ timeout: 1000 })).text(), "BBBBBBBB");
    equal(q.tryReceive(), null);
  }),
);

Deno.test(
  "createSysvMessageQueue() applies the mode exactly, whatever the umask",
  sysvTest((t) => {
    using q = createSysvMessageQueue({ mode: 0o666, removeOnClose: true });
    t.add("msg", q.id);
    equal(q.stat().perm.mode, 0o666);
  }),
);

Deno.test(
  "SysvMessageQueue receives by type: 0, positive, negative and except",
  sysvTest((t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    for (const [type, text] of [[5, "five"], [2, "two"], [9, "nine"], [2, "two-b"]] as const) {
      ok(q.trySend(text, { type }));
    }
    const take = (o: Parameters<typeof q.tryReceive>[0]) => {
      const m = q.tryReceive(o)!;
      return [m.type, dec.decode(m.bytes)];
    };
    deepEqual(take({ type: 2 }), [2, "two"]);
    deepEqual(take({ type: -6 }), [2, "two-b"]);
    deepEqual(take({ type: 5, except: true }), [9, "nine"]);
    deepEqual(take({}), [5, "five"]);
    equal(q.tryReceive(), null);
  }),
);

Deno.test(
  "SysvMessageQueue carries binary, empty and NUL-containing messages intact",
  sysvTest((t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    const payloads = [new Uint8Array(0), new Uint8Array([0, 1, 0, 255]), enc.encode("ünï✓")];
    for (const p of payloads) q.trySend(p);
    for (const p of payloads) deepEqual(q.tryReceive()!.bytes, p);
  }),
);

Deno.test(
  "SysvMessageQueue.receive() waits for a message sent later without blocking the loop",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    setTimeout(() => q.trySend("late", { type: 3 }), 60);
    const m = await q.receive({ timeout: 2000 });
    clearInterval(timer);
    equal(m.type, 3);
    ok(ticks >= 5, `event loop ran during the wait (${ticks} ticks)`);
  }),
);

Deno.test(
  "SysvMessageQueue.receive() times out with ETIMEDOUT after about the timeout",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    const t0 = performance.now();
    await rejects(q.receive({ timeout: 100 }), (e) => e instanceof Deno.errors.TimedOut);
    const took = performance.now() - t0;
    ok(took >= 95 && took < 400, `took ${took} ms`);
    await rejects(q.receive({ timeout: -1 }), code("EINVAL"));
    await rejects(q.receive({ timeout: NaN }), code("EINVAL"));
  }),
);

Deno.test(
  "SysvMessageQueue.receive() rejects with the abort reason when aborted",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("stop")), 30);
    await rejects(q.receive({ signal: ac.signal }), { message: "stop" });
    equal(q.stat().messages, 0);
  }),
);

Deno.test(
  "SysvMessageQueue.receive() fails with EIDRM promptly when ipcrm removes the queue",
  sysvTest(async (t) => {
    const q = createSysvMessageQueue();
    t.add("msg", q.id);
    try {
      const waiting = rejects(q.receive({ timeout: 5000 }), code("EIDRM"));
      const t0 = performance.now();
      await tool("ipcrm", ["-q", String(q.id)]);
      await waiting;
      ok(performance.now() - t0 < 500);
    } finally {
      q.close();
    }
  }),
);

Deno.test(
  "SysvMessageQueue.send() waits while the queue is full and EMSGSIZE past its capacity",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ queueBytes: 100, removeOnClose: true });
    t.add("msg", q.id);
    equal(q.stat().queueBytes, 100);
    ok(q.trySend(new Uint8Array(60)));
    equal(q.trySend(new Uint8Array(60)), null);
    const sending = q.send(new Uint8Array(60), { timeout: 2000 });
    setTimeout(() => q.tryReceive(), 30);
    await sending;
    equal(q.stat().messages, 1);
    throws(() => q.trySend(new Uint8Array(101)), code("EMSGSIZE"));
    await rejects(q.send(new Uint8Array(50), { timeout: 50 }), code("ETIMEDOUT"));
  }),
);

Deno.test(
  "case 17: SysvMessageQueue refuses type <= 0 and a message over msgmax before the syscall",
  sysvTest((t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    const { msgmax } = sysvLimits();
    throws(() => q.trySend("x", { type: 0 }), code("EINVAL"));
    throws(() => q.trySend("x", { type: -3 }), code("EINVAL"));
    throws(() => q.trySend("x", { type: 1.5 }), code("EINVAL"));
    throws(
      () => q.trySend(new Uint8Array(msgmax + 1)),
      (e) => code("EMSGSIZE")(e) && (e as IpcError).limit === "kernel.msgmax",
    );
    throws(() => q.tryReceive({ type: 0, except: true }), code("EINVAL"));
    throws(() => q.tryReceive({ messageSize: -1 }), code("EINVAL"));
    throws(() => createSysvMessageQueue({ key: 2 ** 33 }), code("EINVAL"));
    throws(() => createSysvMessageQueue({ key: NaN }), code("EINVAL"));
    throws(() => createSysvMessageQueue({ mode: 0o1777 }), code("EINVAL"));
    throws(() => openSysvMessageQueue({ key: 0 }), code("EINVAL"));
    throws(() => parseSysvKey("0xZZ"), code("EINVAL"));
  }),
);

Deno.test(
  "case 17: msgrcv into a small buffer is E2BIG and the message stays queued (no silent truncation)",
  sysvTest((t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    q.trySend("0123456789abcdef");
    throws(() => q.tryReceive({ messageSize: 10 }), code("E2BIG"));
    equal(q.stat().messages, 1);
    equal(dec.decode(q.tryReceive({ messageSize: 10, truncate: true })!.bytes), "0123456789");
  }),
);

Deno.test(
  "SysvMessageQueue after close() throws EBADF and close() twice is a no-op",
  sysvTest(async (t) => {
    const q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    q.close();
    q.close();
    ok(!liveIds("msg").has(q.id), "removeOnClose removed it");
    throws(() => q.trySend("x"), (e) => e instanceof Deno.errors.BadResource);
    throws(() => q.tryReceive(), code("EBADF"));
    throws(() => q.stat(), code("EBADF"));
    await rejects(q.receive(), code("EBADF"));
  }),
);

Deno.test(
  "createSysvMessageQueue() with a taken key fails with EEXIST; open by key finds it",
  sysvTest((t) => {
    using q = createSysvMessageQueue({ key: "random", removeOnClose: true });
    t.add("msg", q.id);
    ok(q.key !== 0);
    throws(
      () => createSysvMessageQueue({ key: q.key }),
      (e) => e instanceof Deno.errors.AlreadyExists && code("EEXIST")(e),
    );
    using same = openSysvMessageQueue({ key: q.key });
    equal(same.id, q.id);
  }),
);

Deno.test(
  "openSysvMessageQueue() of a missing key or id fails with ENOENT",
  () => {
    throws(
      () => openSysvMessageQueue({ key: 0x7ffffff1 }),
      (e) => e instanceof Deno.errors.NotFound && code("ENOENT")(e),
    );
    throws(() => openSysvMessageQueue({ id: 0x7ffffff0 }), code("ENOENT"));
    throws(() => openSysvMessageQueue({} as never), code("EINVAL"));
  },
);

Deno.test(
  "case 06: openSysvMessageQueue() refuses a world-writable queue unless trust is any",
  sysvTest(async (t) => {
    const id = t.add("msg", await ipcmk(["-Q", "-p", "0666"]));
    throws(
      () => openSysvMessageQueue({ id }),
      (e) => e instanceof Deno.errors.PermissionDenied && code("EPERM")(e),
    );
    using q = openSysvMessageQueue({ id, trust: "any", removeOnClose: true });
    ok(q.trySend("ok"));
  }),
);

Deno.test(
  asNobodyTest("case 05: another user gets EACCES opening a 0600 queue and EPERM removing it"),
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    const script = `import { openSysvMessageQueue, removeSysvObject } from "@mod";
try { openSysvMessageQueue({ id: ${q.id}, trust: "any" }); console.log("opened"); }
catch (e) { console.log(e.code); }
try { removeSysvObject("sysv-msg", ${q.id}); console.log("removed"); }
catch (e) { console.log(e.code); }`;
    const out = await evalAsNobody(script);
    equal(dec.decode(out.stdout).trim(), "EACCES\nEPERM");
    ok(liveIds("msg").has(q.id), "nothing removed");
  }),
);

Deno.test(
  "SysvMessageQueue interoperates with a C peer both ways",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    await using echo = await spawnReady(await cPeer(), ["msg-echo", String(q.id)]);
    for (const text of ["one", "two words", "x".repeat(4000)]) {
      await q.send(text, { type: 1 });
      const m = await q.receive({ type: 2, timeout: 5000 });
      equal(dec.decode(m.bytes), text);
    }
    await q.send("quit", { type: 1 });
    equal((await echo.process.status).code, 0);
    const peer = await runPeer(["msg-send", String(q.id), "7", "from C"]);
    equal(peer.code, 0);
    const st = q.stat();
    const [qnum, cbytes, qbytes, lspid, , mode, uid] = (await runPeer(["msg-stat", String(q.id)]))
      .out.split(" ").map((x, i) => i === 5 ? parseInt(x, 8) : Number(x));
    deepEqual(
      [qnum, cbytes, qbytes, lspid, mode, uid],
      [st.messages, st.bytes, st.queueBytes, st.lastSendPid, st.perm.mode, st.perm.uid],
    );
    const m = q.tryReceive({ type: 7 })!;
    equal(dec.decode(m.bytes), "from C");
  }),
);

Deno.test(
  "SysvMessageQueue sends to and receives from a queue made by ipcmk",
  sysvTest(async (t) => {
    const id = t.add("msg", await ipcmk(["-Q", "-p", "0600"]));
    using q = openSysvMessageQueue({ id, removeOnClose: true });
    await q.send("hi", { type: 4 });
    const row = (await tool("ipcs", ["-q"])).split("\n").find((l) =>
      l.split(/\s+/)[1] === String(id)
    )!;
    deepEqual(row.trim().split(/\s+/).slice(4), ["2", "1"]);
    equal(dec.decode((await q.receive({ timeout: 1000 })).bytes), "hi");
  }),
);

Deno.test(
  "SysvMessageQueue.set() changes mode and capacity (IPC_SET)",
  sysvTest((t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    q.set({ mode: 0o640, queueBytes: 512 });
    const st = q.stat();
    equal(st.perm.mode, 0o640);
    equal(st.queueBytes, 512);
    throws(() => q.set({ mode: 0o7777 }), code("EINVAL"));
  }),
);

Deno.test(
  "SysvMessageQueue: concurrent receivers each get one message",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    const got = Array.from({ length: 5 }, () => q.receive({ timeout: 3000 }));
    for (let i = 0; i < 5; i++) q.trySend(String(i));
    const texts = (await Promise.all(got)).map((m) => dec.decode(m.bytes)).sort();
    deepEqual(texts, ["0", "1", "2", "3", "4"]);
  }),
);

Deno.test(
  "SysvMessageQueue.tryReceiveInto()/receiveInto() copy into the caller's buffer",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    const buf = new Uint8Array(8);
    equal(q.tryReceiveInto(buf), null);
    q.trySend("abc", { type: 4 });
    deepEqual(q.tryReceiveInto(buf), { length: 3, type: 4 });
    equal(dec.decode(buf.subarray(0, 3)), "abc");
    q.trySend("0123456789");
    throws(() => q.tryReceiveInto(buf), code("E2BIG"));
    deepEqual(q.tryReceiveInto(buf, { truncate: true }), { length: 8, type: 1 });
    setTimeout(() => q.trySend("later", { type: 2 }), 20);
    deepEqual(await q.receiveInto(buf, { timeout: 2000 }), { length: 5, type: 2 });
    throws(() => q.tryReceiveInto("nope" as never), code("EINVAL"));
  }),
);

Deno.test(
  "SysvMessageQueue.receive({ timeout: 0 }) tries once; remove() twice is EIDRM",
  sysvTest(async (t) => {
    const q = createSysvMessageQueue();
    t.add("msg", q.id);
    await rejects(q.receive({ timeout: 0 }), code("ETIMEDOUT"));
    q.trySend("now");
    equal(dec.decode((await q.receive({ timeout: 0 })).bytes), "now");
    using again = openSysvMessageQueue({ id: q.id });
    q.remove();
    ok(q.closed);
    throws(() => again.remove(), code("EIDRM"));
    ok(again.closed);
  }),
);

Deno.test(
  "SysvMessageQueue messages are Message instances; messages() iterates until aborted",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    q.trySend("a", { type: 3 });
    q.trySend("b", { type: 4 });
    const m = q.tryReceive()!;
    ok(m instanceof Message);
    equal(m.text(), "a");
    equal(m.type, 3);
    const ac = new AbortController();
    setTimeout(() => q.trySend("c", { type: 5 }), 20);
    const got: string[] = [];
    for await (const x of q.messages({ signal: ac.signal })) {
      got.push(`${x.type}:${x.text()}`);
      if (got.length === 2) ac.abort();
    }
    deepEqual(got, ["4:b", "5:c"]);
  }),
);

Deno.test(
  "openSysvMessageQueue({ key, create }) is open-or-create with queueBytes",
  sysvTest((t) => {
    const key = 0x1d000000 + (Deno.pid & 0xffffff);
    using a = openSysvMessageQueue({ key, create: { queueBytes: 1000 }, removeOnClose: true });
    t.add("msg", a.id);
    equal(a.stat().queueBytes, 1000);
    using b = openSysvMessageQueue({ key, create: { queueBytes: 5 } });
    equal(b.id, a.id);
    equal(b.stat().queueBytes, 1000, "an existing queue is opened, not changed");
    equal(b.trySend("x"), true);
  }),
);
