import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  createMessageQueue,
  Descriptor,
  IpcError,
  Message,
  MessageQueue,
  MqMessage,
  openMessageQueue,
  removeMessageQueue,
} from "../mod.ts";
import { asNobodyTest, spawnReady, uniqueName } from "./_helpers.ts";
import { cPeer, runChild } from "./_posix_helpers.ts";

function mqName(): string {
  return "/" + uniqueName("mq");
}

/** Creates a queue removed when disposed, also if the test fails. */
function tempQueue(opts: { maxMessages?: number; messageSize?: number } = {}) {
  const name = mqName();
  const q = createMessageQueue(name, { maxMessages: 4, messageSize: 64, ...opts });
  return {
    q,
    name,
    [Symbol.dispose]() {
      q.close();
      try {
        removeMessageQueue(name);
      } catch { /* already removed */ }
    },
  };
}

function code(e: unknown): string {
  ok(e instanceof IpcError, `not an IpcError: ${e}`);
  return (e as IpcError).code;
}

Deno.test("case 01: openMessageQueue() rejects bad names before any syscall", () => {
  for (
    const bad of ["noslash", "/", "", "/a/b", "//x", "/.", "/..", "/x\0y"]
  ) {
    throws(() => openMessageQueue(bad, { create: {} }), (e) => code(e) === "EINVAL", bad);
  }
});

Deno.test("case 08: openMessageQueue() rejects sizes over the limits, naming the sysctl", () => {
  const name = mqName();
  throws(
    () => openMessageQueue(name, { create: { maxMessages: 11 } }),
    (e) => code(e) === "EINVAL" && (e as IpcError).limit === "fs.mqueue.msg_max",
  );
  throws(
    () => openMessageQueue(name, { create: { messageSize: 8193 } }),
    (e) => code(e) === "EINVAL" && (e as IpcError).limit === "fs.mqueue.msgsize_max",
  );
  for (const bad of [0, -1, 1.5, NaN]) {
    throws(
      () => openMessageQueue(name, { create: { maxMessages: bad } }),
      (e) => code(e) === "EINVAL",
    );
    throws(
      () => openMessageQueue(name, { create: { messageSize: bad } }),
      (e) => code(e) === "EINVAL",
    );
  }
  throws(
    () => openMessageQueue(name),
    (e) => e instanceof Deno.errors.NotFound && code(e) === "ENOENT",
  );
});

Deno.test("case 03: openMessageQueue() exclusive create fails with EEXIST and leaves the queue alone", () => {
  using t = tempQueue();
  t.q.trySend("keep");
  throws(
    () => createMessageQueue(t.name),
    (e) => e instanceof Deno.errors.AlreadyExists && code(e) === "EEXIST",
  );
  using again = openMessageQueue(t.name, { create: {} });
  equal(again.attributes().currentMessages, 1);
});

Deno.test("case 07: openMessageQueue() creates mode 0600, or exactly the mode asked for (umask ignored)", () => {
  {
    using t = tempQueue();
    const name2 = mqName();
    using q2 = openMessageQueue(name2, { create: { mode: 0o666, maxMessages: 1 } });
    try {
      const mode = (fd: number) => Deno.statSync(`/proc/self/fd/${fd}`).mode! & 0o777;
      equal(mode(t.q.fd), 0o600);
      equal(mode(q2.fd), 0o666);
    } finally {
      removeMessageQueue(name2);
    }
  }
});

Deno.test("MessageQueue sends and receives by priority; try variants never wait", async () => {
  using t = tempQueue({ maxMessages: 2 });
  const { q } = t;
  equal(q.tryReceive(), null);
  ok(q.trySend("low", { priority: 1 }));
  ok(q.trySend(new Uint8Array([104, 105]), { priority: 9 }));
  equal(q.trySend("full"), null);
  deepEqual(q.attributes(), { maxMessages: 2, messageSize: 64, currentMessages: 2 });
  const first = await q.receive();
  equal(first.text(), "hi");
  equal(first.priority, 9);
  equal(q.tryReceive()?.text(), "low");
});

Deno.test("case 10: MessageQueue rejects oversize messages (EMSGSIZE) and bad priorities (EINVAL)", () => {
  using t = tempQueue({ messageSize: 16 });
  throws(() => t.q.trySend("x".repeat(17)), (e) => code(e) === "EMSGSIZE");
  throws(() => t.q.trySend("x", { priority: 32768 }), (e) => code(e) === "EINVAL");
  throws(() => t.q.trySend("x", { priority: -1 }), (e) => code(e) === "EINVAL");
  equal(t.q.attributes().currentMessages, 0);
});

Deno.test("case 12: MessageQueue.receive() times out, aborts, and waits without blocking timers", async () => {
  using t = tempQueue();
  const start = performance.now();
  await rejects(t.q.receive({ timeout: 100 }), (e) => code(e) === "ETIMEDOUT");
  const took = performance.now() - start;
  ok(took >= 95 && took < 400, `took ${took}`);
  const ac = new AbortController();
  const p = t.q.receive({ signal: ac.signal });
  ac.abort(new Error("stop"));
  await rejects(p, /stop/);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  setTimeout(() => t.q.trySend("late"), 150);
  equal((await t.q.receive({ timeout: 2000 })).text(), "late");
  clearInterval(timer);
  ok(ticks >= 5, `event loop ran ${ticks} ticks while waiting`);
  await rejects(t.q.receive({ timeout: -1 }), (e) => code(e) === "EINVAL");
});

Deno.test("MessageQueue.send() on a full queue waits for room", async () => {
  using t = tempQueue({ maxMessages: 1 });
  ok(t.q.trySend("a"));
  await rejects(t.q.send("b", { timeout: 50 }), (e) => code(e) === "ETIMEDOUT");
  const sending = t.q.send("b", { timeout: 2000 });
  setTimeout(() => t.q.tryReceive(), 50);
  await sending;
  equal(t.q.tryReceive()?.text(), "b");
});

Deno.test("MessageQueue.waitForMessage() resolves when a message arrives on an empty queue", async () => {
  using t = tempQueue();
  const waiting = t.q.waitForMessage({ timeout: 2000 });
  setTimeout(() => t.q.trySend("ping"), 30);
  await waiting;
  equal(t.q.attributes().currentMessages, 1, "the message is not consumed");
});

Deno.test("MessageQueue async iteration yields messages until aborted", async () => {
  using t = tempQueue();
  for (const m of ["1", "2", "3"]) t.q.trySend(m);
  const ac = new AbortController();
  const got: string[] = [];
  for await (const m of t.q.messages({ signal: ac.signal })) {
    got.push(m.text());
    if (got.length === 3) setTimeout(() => ac.abort(), 20);
  }
  deepEqual(got, ["1", "2", "3"]);
});

Deno.test("case 20: MessageQueue after close throws BadResource and never reaches libc", async () => {
  const t = tempQueue();
  const pending = t.q.receive();
  t.q.close();
  await rejects(pending, (e) => e instanceof Deno.errors.BadResource);
  throws(() => t.q.trySend("x"), (e) => code(e) === "EBADF");
  throws(() => t.q.tryReceive(), (e) => code(e) === "EBADF");
  throws(() => t.q.attributes(), (e) => code(e) === "EBADF");
  t.q.close();
  t[Symbol.dispose]();
  ok(t.q instanceof MessageQueue);
});

Deno.test("MessageQueue interoperates with a C peer in both directions", async () => {
  using t = tempQueue();
  const peer = await cPeer();
  await using child = await spawnReady(peer, ["mq-recv", t.name]);
  await t.q.send("hello C", { priority: 7 });
  equal(await child.nextLine(), "7 hello C");
  const out = await new Deno.Command(peer, { args: ["mq-send", t.name, "hello TS", "3"] }).output();
  equal(out.code, 0);
  const m = await t.q.receive({ timeout: 2000 });
  equal(m.text(), "hello TS");
  equal(m.priority, 3);
});

Deno.test("MessageQueue carries messages between two Deno processes", async () => {
  using t = tempQueue();
  const res = await runChild(["mq-send", t.name, "from child"]);
  deepEqual(res, { ok: true });
  equal((await t.q.receive({ timeout: 2000 })).text(), "from child");
});

Deno.test(
  asNobodyTest("case 05: openMessageQueue() and unlink as another user fail with EACCES"),
  async () => {
    using t = tempQueue();
    const open = await runChild(["mq-open", t.name], { asNobody: true });
    equal(open.code, "EACCES");
    ok(open.permissionDenied);
    const rm = await runChild(["mq-unlink", t.name], { asNobody: true });
    equal(rm.code, "EACCES");
    equal(t.q.attributes().maxMessages, 4, "still there");
    using again = openMessageQueue(t.name);
    ok(again);
  },
);

Deno.test("case 09: openMessageQueue() names RLIMIT_MSGQUEUE when the per-user budget is spent", async () => {
  const res = await runChild(["mq-limit", mqName()], { prefix: ["prlimit", "--msgqueue=200000"] });
  equal(res.code, "EMFILE");
  equal(res.limit, "RLIMIT_MSGQUEUE");
});

Deno.test("case 11: MessageQueue.tryReceiveInto()/receiveInto() fill a caller buffer and check its size", async () => {
  using t = tempQueue({ messageSize: 32 });
  const buf = new Uint8Array(32);
  equal(t.q.tryReceiveInto(buf), null);
  throws(() => t.q.tryReceiveInto(new Uint8Array(31)), (e) => code(e) === "EINVAL");
  t.q.trySend("abc", { priority: 4 });
  deepEqual(t.q.tryReceiveInto(buf), { length: 3, priority: 4 });
  equal(new TextDecoder().decode(buf.subarray(0, 3)), "abc");
  setTimeout(() => t.q.trySend("later"), 20);
  deepEqual(await t.q.receiveInto(buf, { timeout: 2000 }), { length: 5, priority: 0 });
  await rejects(t.q.receiveInto(buf, { timeout: 30 }), (e) => code(e) === "ETIMEDOUT");
});

Deno.test("MessageQueue receives Message instances and is a Descriptor", async () => {
  using t = tempQueue();
  ok(t.q instanceof Descriptor);
  equal(t.q.trySend("hi", { priority: 3 }), true);
  const m = t.q.tryReceive()!;
  ok(m instanceof Message && m instanceof MqMessage);
  deepEqual([...m.bytes], [104, 105]);
  equal(m.text(), "hi");
  equal(m.priority, 3);
  equal(t.q.tryReceive(), null);
  await t.q.send("yo", { priority: 2 });
  const buf = new Uint8Array(64);
  deepEqual(await t.q.receiveInto(buf, { timeout: 1000 }), { length: 2, priority: 2 });
  t.q.close();
  t.q.close();
  throws(() => t.q.fd, (e) => code(e) === "EBADF");
  throws(() => t.q.trySend("x"), (e) => e instanceof Deno.errors.BadResource);
});

Deno.test("openMessageQueue() with create opens an existing queue as it is, or creates one", () => {
  using t = tempQueue({ maxMessages: 3 });
  using same = openMessageQueue(t.name, { create: { maxMessages: 1 } });
  equal(same.maxMessages, 3);
  const name = mqName();
  using made = openMessageQueue(name, { create: { maxMessages: 2, messageSize: 8 } });
  made.remove();
  equal(made.maxMessages, 2);
  equal(made.messageSize, 8);
  throws(() => openMessageQueue(name), (e) => e instanceof Deno.errors.NotFound);
  throws(
    () => openMessageQueue(t.name, { trust: "bogus" as "any" }),
    (e) => code(e) === "EINVAL",
  );
  throws(
    () => openMessageQueue(t.name, { create: true as unknown as Record<string, never> }),
    (e) => code(e) === "EINVAL",
  );
});
