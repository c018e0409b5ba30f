/**
 * Issue 11, queues and semaphores: semaphore files checked before they are
 * mapped (or read without mapping), caller buffers checked before every
 * attempt, bad arguments as EINVAL naming the call. Research §9 cases are
 * named `case NN: ...`.
 */
import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  createMemfd,
  createMessageQueue,
  createSemaphore,
  createSharedMemory,
  IpcError,
  listIpcObjects,
  openMessageQueue,
  openSemaphore,
  openSharedMemory,
  openSharedMemoryFd,
  removeMessageQueue,
  removeSemaphore,
  semaphoreInRegion,
  withSemaphore,
} from "../mod.ts";
import { captureIo, main } from "../lib/cli/main.ts";
import { ipcSnapshot, uniqueName } from "./_helpers.ts";
import { NOBODY } from "../examples/_as_user.ts";
import { code, isCode, runChild, tempQueue } from "./_posix_safety.ts";

Deno.test("a semaphore file truncated by its owner is EINVAL in openSemaphore() and `ipckit sem value`, not SIGBUS", async () => {
  const name = "/" + uniqueName("semtrunc");
  createSemaphore(name, { value: 1 }).close();
  try {
    Deno.truncateSync(`/dev/shm/sem.${name.slice(1)}`, 0);
    throws(() => openSemaphore(name), (e) => {
      equal(code(e), "EINVAL");
      equal((e as IpcError).syscall, "sem_open");
      ok(String(e).includes("0 bytes"), String(e));
      return true;
    });
    throws(() => openSemaphore(name, { create: { value: 1 } }), isCode("EINVAL"));
    const io = captureIo();
    equal(await main(["sem", "value", name], io), 1);
    ok(io.stderrText.includes("EINVAL"), io.stderrText);
    await rejects(withSemaphore(name, () => 1, { timeout: 0 }), isCode("EINVAL"));
  } finally {
    removeSemaphore(name);
  }
});

Deno.test("openSemaphore() refuses a symlink planted as a semaphore file", () => {
  const name = "/" + uniqueName("semlink");
  const target = "/" + uniqueName("semtarget");
  createSemaphore(target, { value: 1 }).close();
  try {
    Deno.symlinkSync(`/dev/shm/sem.${target.slice(1)}`, `/dev/shm/sem.${name.slice(1)}`);
    throws(() => openSemaphore(name, { trust: "any" }), isCode("EINVAL", "sem_open"));
  } finally {
    Deno.removeSync(`/dev/shm/sem.${name.slice(1)}`);
    removeSemaphore(target);
  }
});

Deno.test("case 42: receiveInto() with a buffer transferred while it waits is EINVAL and the message stays queued", async () => {
  using q = tempQueue();
  const buf = new Uint8Array(16);
  const pending = q.receiveInto(buf, { timeout: 2000 });
  buf.buffer.transfer();
  q.trySend("kept");
  await rejects(pending, isCode("EINVAL", "mq_receive"));
  equal(q.attributes().currentMessages, 1);
  equal(q.tryReceive()?.text(), "kept");
  throws(() => q.tryReceiveInto(buf), isCode("EINVAL"));
  await rejects(q.receiveInto(buf, { timeout: 0 }), isCode("EINVAL"));
});

Deno.test("case 42: receiveInto() with a resizable buffer shrunk while it waits is EINVAL and the message stays queued", async () => {
  using q = tempQueue();
  for (const view of ["tracking", "fixed"] as const) {
    const rab = new ArrayBuffer(16, { maxByteLength: 64 });
    const buf = view === "tracking" ? new Uint8Array(rab) : new Uint8Array(rab, 0, 16);
    const pending = q.receiveInto(buf, { timeout: 2000 });
    rab.resize(4);
    q.trySend(view);
    await rejects(pending, isCode("EINVAL", "mq_receive"));
    equal(q.attributes().currentMessages, 1);
    rab.resize(32); // big enough again: it works
    const r = await q.receiveInto(view === "tracking" ? buf : new Uint8Array(rab), { timeout: 0 });
    equal(new TextDecoder().decode(new Uint8Array(rab, 0, r.length)), view);
  }
});

Deno.test("case 42: a send whose buffer is detached or resized while it waits is EINVAL, nothing empty is sent", async () => {
  using q = tempQueue();
  for (let i = 0; i < 4; i++) q.trySend("fill");
  const data = new Uint8Array(8).fill(1);
  const pending = q.send(data, { timeout: 2000 });
  data.buffer.transfer();
  q.tryReceive(); // room: the next attempt sees the detached buffer
  await rejects(pending, isCode("EINVAL", "mq_send"));
  equal(q.attributes().currentMessages, 3);
  throws(() => q.trySend(data), isCode("EINVAL"));
  const rab = new ArrayBuffer(8, { maxByteLength: 8 });
  const shrinking = new Uint8Array(rab);
  q.trySend("fill");
  const second = q.send(shrinking, { timeout: 2000 });
  rab.resize(2);
  q.tryReceive();
  await rejects(second, isCode("EINVAL", "mq_send"));
  equal(q.attributes().currentMessages, 3);
});

Deno.test("case 41: buffers of pending waits survive forced GC (child with --expose-gc)", async () => {
  const r = await runChild(["gc", "/" + uniqueName("gc")], [], ["--v8-flags=--expose-gc"]);
  equal(r.signal, null, r.err);
  deepEqual(r.out, { rounds: 20 });
});

const BAD: unknown[] = [NaN, -1, 1.5, 2 ** 53, 10n, "8", null, true, Symbol("x"), () => 1, [1]];
const label = (v: unknown) =>
  typeof v === "bigint"
    ? `${v}n`
    : typeof v === "symbol"
    ? "symbol"
    : typeof v === "function"
    ? "function"
    : JSON.stringify(v) ?? String(v);

const kindOf = (v: unknown): string => typeof v;

function allEinval(what: string, fn: (v: any) => unknown, valid?: string): void {
  for (const v of BAD.filter((v) => kindOf(v) !== valid)) {
    throws(() => fn(v), (e) => {
      ok(e instanceof IpcError, `${what}(${label(v)}) threw ${e}`);
      equal((e as IpcError).code, "EINVAL", `${what}(${label(v)}): ${e}`);
      ok((e as IpcError).syscall, "names the call");
      return true;
    }, `${what}(${label(v)}) did not throw`);
  }
}

async function allEinvalAsync(
  what: string,
  fn: (v: any) => Promise<unknown>,
  valid?: string,
): Promise<void> {
  for (const v of BAD.filter((v) => kindOf(v) !== valid)) {
    await rejects(fn(v), (e) => {
      ok(e instanceof IpcError, `${what}(${label(v)}) threw ${e}`);
      equal((e as IpcError).code, "EINVAL", `${what}(${label(v)}): ${e}`);
      return true;
    });
  }
}

Deno.test("bad argument types and values are EINVAL naming the call: shared memory", () => {
  const before = ipcSnapshot();
  const name = "/" + uniqueName("badshm");
  allEinval("createSharedMemory size", (v) => createSharedMemory(name, { size: v }));
  allEinval("createSharedMemory options", (v) => createSharedMemory(name, v));
  allEinval(
    "openSharedMemory options",
    (v) => openSharedMemory(name, v === null ? null as any : { trust: v }),
  );
  allEinval("openSharedMemoryFd", (v) => openSharedMemoryFd(v));
  allEinval("createMemfd size", (v) => createMemfd("bad", { size: v }));
  allEinval("createMemfd name", (v) => createMemfd(v, { size: 8 }), "string");
  using seg = createMemfd(uniqueName("bad"), { size: 64 });
  allEinval("resize", (v) => seg.resize(v));
  allEinval("typed offset", (v) => seg.typed(Uint8Array, v));
  allEinval("typed length", (v) => seg.typed(Uint8Array, 0, v));
  allEinval("typed class", (v) => seg.typed(v));
  allEinval("sync", (v) => seg.sync(v));
  allEinval("semaphoreInRegion offset", (v) => semaphoreInRegion(seg, v));
  allEinval("semaphoreInRegion region", (v) => semaphoreInRegion(v, 0));
  deepEqual(ipcSnapshot(), before);
});

Deno.test("case 13: bad argument types, values and timeouts (null too) are EINVAL naming the call: queues and semaphores", async () => {
  const before = ipcSnapshot();
  const name = "/" + uniqueName("badmq");
  allEinval("createMessageQueue maxMessages", (v) => createMessageQueue(name, { maxMessages: v }));
  allEinval(
    "createMessageQueue options",
    (v) =>
      v === null || typeof v === "object"
        ? createMessageQueue(name, v ?? null)
        : createMessageQueue(name, v),
  );
  allEinval("openMessageQueue name", (v) => openMessageQueue(v));
  using q = tempQueue();
  allEinval("trySend priority", (v) => q.trySend("x", { priority: v }));
  allEinval("tryReceiveInto", (v) => q.tryReceiveInto(v));
  for (const timeout of [-1, NaN, null, "5", 5n]) {
    await rejects(q.receive({ timeout } as any), isCode("EINVAL", "mq_receive"));
    await rejects(q.send("x", { timeout } as any), isCode("EINVAL", "mq_send"));
  }
  allEinval("createSemaphore value", (v) => createSemaphore(name, { value: v }));
  allEinval("createSemaphore mode", (v) => createSemaphore(name, { mode: v }));
  using sem = createSemaphore("/" + uniqueName("badsem"));
  sem.remove();
  for (const timeout of [-1, NaN, null, "5", 5n]) {
    await rejects(sem.wait({ timeout } as any), isCode("EINVAL", "sem_wait"));
  }
  await allEinvalAsync("withSemaphore fn", (v) => withSemaphore(name, v), "function");
  throws(() => createSemaphore(name, { value: 2 ** 31 }), isCode("EINVAL", "sem_open"));
  deepEqual(ipcSnapshot(), before);
});

Deno.test("case 04: opening a missing queue, semaphore or shared-memory object is ENOENT", () => {
  const name = "/" + uniqueName("missing");
  throws(() => openMessageQueue(name), isCode("ENOENT", "mq_open"));
  throws(() => openSemaphore(name), isCode("ENOENT", "sem_open"));
  throws(() => openSharedMemory(name), isCode("ENOENT", "shm_open"));
  throws(() => removeMessageQueue(name), isCode("ENOENT"));
});

Deno.test("case 06: a group/other-writable queue or semaphore, or one another user owns, is refused unless trusted", () => {
  const qname = "/" + uniqueName("wideq");
  const made = createMessageQueue(qname, { mode: 0o666, maxMessages: 1, messageSize: 8 });
  made.close();
  try {
    throws(() => openMessageQueue(qname), isCode("EPERM", "mq_open"));
    openMessageQueue(qname, { trust: "any" }).close();
  } finally {
    removeMessageQueue(qname);
  }
  const sname = "/" + uniqueName("plantsem");
  createSemaphore(sname, { value: 1 }).close();
  try {
    if (Deno.uid() === 0) {
      Deno.chownSync(`/dev/shm/sem.${sname.slice(1)}`, NOBODY, NOBODY);
      throws(() => openSemaphore(sname), isCode("EPERM", "sem_open"));
      openSemaphore(sname, { trustedUids: [NOBODY] }).close();
    }
    Deno.chmodSync(`/dev/shm/sem.${sname.slice(1)}`, 0o666);
    throws(() => openSemaphore(sname, { trustedUids: [NOBODY] }), isCode("EPERM", "sem_open"));
    openSemaphore(sname, { trust: "any" }).close();
  } finally {
    removeSemaphore(sname);
  }
});

Deno.test("case 12: on a full queue trySend() is null at once and send({ timeout: 0 }) is TimedOut", async () => {
  using q = tempQueue();
  for (let i = 0; i < 4; i++) equal(q.trySend("x"), true);
  const t0 = performance.now();
  equal(q.trySend("y"), null);
  await rejects(q.send("y", { timeout: 0 }), isCode("ETIMEDOUT", "mq_send"));
  ok(performance.now() - t0 < 100);
  equal(q.attributes().currentMessages, 4);
});

Deno.test("receiving on a write-only queue is EBADF at once, not an endless wait", async () => {
  const name = "/" + uniqueName("wronly");
  using q = createMessageQueue(name, { maxMessages: 1, messageSize: 8, access: "write" });
  q.remove();
  q.trySend("x");
  throws(() => q.tryReceive(), isCode("EBADF", "mq_receive"));
  await rejects(q.receive({ timeout: 2000 }), isCode("EBADF", "mq_receive"));
});

Deno.test("listIpcObjects() and `ipckit ls` read semaphore values without mapping: a truncated or planted file cannot crash them", async () => {
  const cut = "/" + uniqueName("lscut");
  const fifo = "/" + uniqueName("lsfifo");
  const good = "/" + uniqueName("lsgood");
  createSemaphore(cut, { value: 1 }).close();
  createSemaphore(good, { value: 3 }).close();
  try {
    Deno.truncateSync(`/dev/shm/sem.${cut.slice(1)}`, 0);
    Deno.chmodSync(`/dev/shm/sem.${cut.slice(1)}`, 0o666); // anyone could have cut it
    new Deno.Command("mkfifo", { args: [`/dev/shm/sem.${fifo.slice(1)}`] }).outputSync();
    const recs = listIpcObjects({ kind: "posix-sem" });
    equal(recs.find((r) => r.name === good)?.semaphores, 3);
    const bad = recs.find((r) => r.name === cut);
    ok(bad, "the truncated semaphore is still listed");
    equal(bad.semaphores, undefined);
    const io = captureIo();
    equal(await main(["ls", "--json", "--kind", "posix-sem"], io), 0, io.stderrText);
    const fifoValue = captureIo();
    equal(await main(["sem", "value", fifo], fifoValue), 1);
    ok(fifoValue.stderrText.includes("EINVAL"), fifoValue.stderrText);
    const goodValue = captureIo();
    equal(await main(["sem", "value", good], goodValue), 0);
    equal(goodValue.stdoutText.trim(), "3");
  } finally {
    removeSemaphore(cut);
    removeSemaphore(good);
    Deno.removeSync(`/dev/shm/sem.${fifo.slice(1)}`);
  }
});
