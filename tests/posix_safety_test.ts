/**
 * Issue 11 for POSIX queues, semaphores, shared memory and memfds: no
 * public call kills the process with a signal or touches memory past a live
 * mapping, hostile hosts and neighbours get typed errors, caller buffers are
 * checked before every attempt, and bad arguments are EINVAL. Scenarios that
 * could kill the process run in a child (a signal death then fails the test
 * instead of the runner). Research §9 cases are named `case NN: ...`.
 */
import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  createMemfd,
  createMessageQueue,
  createSemaphore,
  createSharedMemory,
  IpcError,
  listIpcObjects,
  type MessageQueue,
  openMessageQueue,
  openSemaphore,
  openSharedMemory,
  openSharedMemoryFd,
  removeMessageQueue,
  removeSemaphore,
  removeSharedMemory,
  semaphoreInRegion,
  type SharedMemory,
  withSemaphore,
} from "../mod.ts";
import { captureIo, main } from "../lib/cli/main.ts";
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { fdsTo, ipcSnapshot, uniqueName } from "./_helpers.ts";
import { NOBODY, otherUserSupport, stageForNobody } from "../examples/_as_user.ts";

const child = new URL("./fixtures/posix_safety_child.ts", import.meta.url).pathname;
const IPC_FLAGS = ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env"];

function code(e: unknown): string {
  ok(e instanceof IpcError, `not an IpcError: ${e}`);
  return (e as IpcError).code;
}

function isCode(expected: string, syscall?: string) {
  return (e: unknown) => {
    equal(code(e), expected, String(e));
    if (syscall) equal((e as IpcError).syscall, syscall);
    return true;
  };
}

function tempQueue(size = 16): MessageQueue & Disposable {
  const q = createMessageQueue("/" + uniqueName("mq"), { maxMessages: 4, messageSize: size });
  q.remove();
  return q;
}

function mapsMention(text: string): boolean {
  return Deno.readTextFileSync("/proc/self/maps").includes(text);
}

async function runChild(
  args: string[],
  prefix: string[] = [],
  flags: string[] = [],
): Promise<{ code: number; signal: string | null; out: Record<string, unknown>; err: string }> {
  const argv = [...prefix, Deno.execPath(), "run", ...flags, ...IPC_FLAGS, child, ...args];
  const res = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(res.stdout).trim();
  const err = new TextDecoder().decode(res.stderr);
  let out: Record<string, unknown> = {};
  try {
    out = JSON.parse(text.split("\n").pop() || "{}");
  } catch { /* reported through code/signal below */ }
  return { code: res.code, signal: res.signal, out, err };
}

function unshareSupport(): { ok: true } | { ok: false; reason: string } {
  if (Deno.uid() !== 0) return { ok: false, reason: "needs root to mount a small tmpfs" };
  const r = new Deno.Command("unshare", { args: ["-m", "true"], stderr: "null" }).outputSync();
  return r.success ? { ok: true } : { ok: false, reason: "unshare -m is not permitted here" };
}

// ---------------------------------------------------------------- memory

Deno.test("close() after buffer.transfer() and structuredClone releases the memfd and its mapping", () => {
  for (const how of ["transfer", "structuredClone"] as const) {
    const name = uniqueName(how);
    const seg = createMemfd(name, { size: 8192 });
    seg.bytes[0] = 7;
    const fd = seg.handle.fd;
    const moved = how === "transfer"
      ? seg.buffer.transfer()
      : structuredClone(seg.buffer, { transfer: [seg.buffer] });
    equal(new Uint8Array(moved)[0], 7);
    equal(seg.bytes[0], 7, "a new buffer over the same mapping is made on demand");
    seg.close(); // must not throw a raw TypeError
    equal(seg.closed, true);
    deepEqual(fdsTo(new RegExp(`memfd:${name}`)), [], `descriptor ${fd} still open`);
    equal(mapsMention(`memfd:${name}`), false, "the object is still mapped");
    // The stray buffer now covers private zero pages: harmless to use.
    equal(new Uint8Array(moved)[0], 0);
    new Uint8Array(moved)[1] = 1;
  }
});

Deno.test("close() after the buffer was posted to a Worker releases the object", async () => {
  const name = uniqueName("worker");
  const seg = createMemfd(name, { size: 4096 });
  seg.bytes[0] = 42;
  const src = `self.onmessage = (e) => {
    const b = new Uint8Array(e.data);
    self.postMessage(b[0]);
    self.onmessage = () => self.postMessage(b[0]);
  };`;
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    const next = () => new Promise<number>((r) => worker.onmessage = (e) => r(e.data));
    let reply = next();
    worker.postMessage(seg.buffer, [seg.buffer]);
    equal(await reply, 42);
    seg.close();
    deepEqual(fdsTo(new RegExp(`memfd:${name}`)), []);
    equal(mapsMention(`memfd:${name}`), false);
    reply = next();
    worker.postMessage("again");
    equal(await reply, 0, "the worker's buffer now reads zero pages, not the object");
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("case 21: after close() and resize() every old view reads as detached", () => {
  using seg = createMemfd(uniqueName("views"), { size: 4096 });
  const bytes = seg.bytes;
  const typed = seg.typed(Uint32Array, 8, 4);
  seg.resize(8192);
  equal(bytes.length, 0);
  equal(bytes[0], undefined);
  equal(typed.length, 0);
  const after = seg.view;
  seg.close();
  equal(after.buffer.detached, true);
  throws(() => seg.bytes, isCode("EBADF"));
});

Deno.test("createMemfd() of 2^52 bytes is ENOMEM naming MemTotal, at once and without allocating", () => {
  const t0 = performance.now();
  const before = fdsTo(/memfd:/).length;
  throws(() => createMemfd("huge", { size: 2 ** 52 }), (e) => {
    equal(code(e), "ENOMEM");
    equal((e as IpcError).limit, "MemTotal");
    equal((e as IpcError).syscall, "memfd_create");
    return true;
  });
  ok(performance.now() - t0 < 1000, "took too long");
  equal(fdsTo(/memfd:/).length, before);
  const name = "/" + uniqueName("huge");
  throws(() => createSharedMemory(name, { size: 2 ** 52 }), isCode("ENOMEM", "shm_open"));
  throws(() => removeSharedMemory(name), isCode("ENOENT"), "nothing was created");
  using seg = createMemfd(uniqueName("grow"), { size: 4096 });
  throws(() => seg.resize(2 ** 52), isCode("ENOMEM"));
  equal(seg.size, 4096);
});

Deno.test("sizes over RLIMIT_FSIZE are EFBIG naming the limit, never a SIGXFSZ death", async () => {
  // The limit leaves room for Deno's own cache files; the sizes are refused
  // before anything is allocated, so asking for twice the limit costs nothing.
  const r = await runChild(
    ["fsize", "/" + uniqueName("fsize"), String(128 << 20)],
    ["prlimit", `--fsize=${64 << 20}`],
  );
  equal(r.signal, null, r.err);
  deepEqual(r.out, {
    create: "EFBIG RLIMIT_FSIZE",
    memfd: "EFBIG RLIMIT_FSIZE",
    grow: "EFBIG RLIMIT_FSIZE",
  });
});

Deno.test("case 23: a full tmpfs is ENOSPC on create, grow and writable open of a sparse object, never SIGBUS", async () => {
  const can = unshareSupport();
  if (!can.ok) return void console.log(`skipped: ${can.reason}`);
  const name = "/" + uniqueName("tmpfs");
  const cmd = [Deno.execPath(), "run", ...IPC_FLAGS, child, "tmpfs", name].join(" ");
  const res = await new Deno.Command("unshare", {
    args: [
      "-m",
      "sh",
      "-c",
      `mount -t tmpfs -o size=1M tmpfs /dev/shm && truncate -s 4M /dev/shm${name} && ${cmd}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(res.stderr);
  equal(res.signal, null, err);
  equal(res.code, 0, err);
  const out = JSON.parse(new TextDecoder().decode(res.stdout).trim());
  deepEqual(out, {
    openSparse: "ENOSPC tmpfs free space",
    create: "ENOSPC tmpfs free space",
    grow: "ENOSPC tmpfs free space",
  });
});

Deno.test("openSharedMemory() allocates the holes of a sparse object it opens writable", () => {
  const name = "/" + uniqueName("sparse");
  const fd = libc().shm_open(
    cstr(name),
    unistd().O_RDWR | unistd().O_CREAT | unistd().O_EXCL,
    0o600,
  );
  ok(fd >= 0);
  try {
    equal(libc().ftruncate(fd, 1n << 20n), 0); // a peer's bare ftruncate: all holes
    equal(Deno.statSync(`/dev/shm${name}`).blocks, 0);
    using shm = openSharedMemory(name);
    ok(Deno.statSync(`/dev/shm${name}`).blocks! * 512 >= 1 << 20, "not allocated");
    shm.bytes.fill(3);
  } finally {
    libc().close(fd);
    removeSharedMemory(name);
  }
});

Deno.test("case 22: a received unsealed descriptor owned by another user is refused; sealed or trusted is mapped", () => {
  const can = otherUserSupport();
  if (!can.ok) return void console.log(`skipped: ${can.reason}`);
  const name = "/" + uniqueName("fdtrust");
  const path = `/dev/shm${name}`;
  const made = createSharedMemory(name, { size: 4096 });
  made.close();
  Deno.chownSync(path, NOBODY, NOBODY); // now another user's object, as if passed to us
  const open = () => libc().open(cstr(path), unistd().O_RDWR | unistd().O_CLOEXEC, 0);
  try {
    const fd = open();
    throws(() => openSharedMemoryFd(fd), (e) => {
      equal(code(e), "EPERM");
      ok(String(e).includes("seal"), String(e));
      return true;
    });
    // Still the caller's: refused without closing it.
    using trusted = openSharedMemoryFd(fd, { trustedUids: [NOBODY] });
    equal(trusted.size, 4096);
    using any = openSharedMemoryFd(open(), { trust: "any" });
    equal(any.size, 4096);
  } finally {
    removeSharedMemory(name);
  }
  // A memfd sealed against shrinking is safe whoever owns it.
  using sealed = createMemfd(uniqueName("sealed"), { size: 4096, sealSize: true });
  const dup = sealed.handle.dup();
  Deno.chownSync(`/proc/self/fd/${dup.fd}`, NOBODY, NOBODY);
  using mapped = openSharedMemoryFd(dup.release());
  equal(mapped.size, 4096);
  // ...and the sealed size cannot be cut under the mapping.
  equal(libc().ftruncate(mapped.handle.fd, 1024n), -1);
  equal(mapped.size, 4096);
});

// ---------------------------------------------------------------- semaphore files

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

// ---------------------------------------------------------------- caller buffers

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

// ---------------------------------------------------------------- bad arguments

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

Deno.test("case 44: a memfd name over 249 bytes is EINVAL; sealing an object that cannot be sealed is EPERM", () => {
  throws(() => createMemfd("x".repeat(250), { size: 8 }), isCode("EINVAL", "memfd_create"));
  const name = "/" + uniqueName("noseal");
  using shm: SharedMemory = createSharedMemory(name, { size: 4096 });
  shm.remove();
  throws(() => shm.sealSize(), isCode("EPERM"));
  using seg = createMemfd(uniqueName("seal"), { size: 8 });
  seg.sealSize();
  throws(() => seg.sealSize(), isCode("EPERM"), "F_SEAL_SEAL forbids more seals");
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

Deno.test("case 20: shared memory after close throws BadResource and never maps again", () => {
  const seg = createMemfd(uniqueName("closed"), { size: 64 });
  seg.close();
  seg.close();
  for (
    const f of [
      () => seg.bytes,
      () => seg.buffer,
      () => seg.size,
      () => seg.resize(128),
      () => seg.sync(),
      () => seg.handle,
      () => seg.typed(Uint8Array),
      () => semaphoreInRegion(seg, 0),
    ]
  ) {
    throws(f, (e) => e instanceof Deno.errors.BadResource && code(e) === "EBADF");
  }
});

Deno.test("receiving on a write-only queue is EBADF at once, not an endless wait", async () => {
  const name = "/" + uniqueName("wronly");
  using q = createMessageQueue(name, { maxMessages: 1, messageSize: 8, access: "write" });
  q.remove();
  q.trySend("x");
  throws(() => q.tryReceive(), isCode("EBADF", "mq_receive"));
  await rejects(q.receive({ timeout: 2000 }), isCode("EBADF", "mq_receive"));
});

Deno.test("openSharedMemoryFd() of a read-only descriptor needs readOnly (EACCES), and leaves it open", () => {
  const name = "/" + uniqueName("rdonly");
  createSharedMemory(name, { size: 4096 }).close();
  try {
    const fd = libc().shm_open(cstr(name), unistd().O_RDONLY | unistd().O_CLOEXEC, 0);
    throws(() => openSharedMemoryFd(fd), isCode("EACCES", "mmap"));
    using shm = openSharedMemoryFd(fd, { readOnly: true });
    equal(shm.size, 4096);
  } finally {
    removeSharedMemory(name);
  }
});

Deno.test("ipckit shm info only looks: a huge sparse object is reported, never mapped", async () => {
  const name = "/" + uniqueName("hugeinfo");
  const fd = libc().shm_open(
    cstr(name),
    unistd().O_RDWR | unistd().O_CREAT | unistd().O_EXCL,
    0o600,
  );
  ok(fd >= 0);
  try {
    equal(libc().ftruncate(fd, 1n << 52n), 0); // sparse: costs nothing
    const io = captureIo();
    equal(await main(["shm", "info", name, "--json"], io), 0, io.stderrText);
    equal(JSON.parse(io.stdoutText).size, 2 ** 52);
    throws(() => openSharedMemory(name), isCode("ENOMEM"), "a writable open would allocate it");
    const missing = captureIo();
    equal(await main(["shm", "info", name + "-no"], missing), 1);
    ok(missing.stderrText.includes("ENOENT"), missing.stderrText);
  } finally {
    libc().close(fd);
    removeSharedMemory(name);
  }
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

Deno.test("a FIFO planted under a shared-memory name is EINVAL at once, also read-only (never a hung open)", () => {
  const name = "/" + uniqueName("shmfifo");
  new Deno.Command("mkfifo", { args: [`/dev/shm${name}`] }).outputSync();
  try {
    for (const readOnly of [false, true]) {
      throws(() => openSharedMemory(name, { readOnly, trust: "any" }), isCode("EINVAL"));
    }
    deepEqual(fdsTo(`/dev/shm${name}`), [], "the refused open left no descriptor");
  } finally {
    Deno.removeSync(`/dev/shm${name}`);
  }
});

Deno.test("as an unprivileged user: huge sizes, a planted truncated semaphore and sealed memfds behave the same", async () => {
  const can = otherUserSupport();
  if (!can.ok) return void console.log(`skipped: ${can.reason}`);
  using stage = stageForNobody(["tests/fixtures/posix_safety_child.ts"]);
  const name = "/" + uniqueName("nobody");
  createSemaphore(name, { value: 1, mode: 0o644 }).close();
  try {
    Deno.truncateSync(`/dev/shm/sem.${name.slice(1)}`, 0);
    const argv = stage.command([
      "run",
      ...IPC_FLAGS,
      stage.path("tests/fixtures/posix_safety_child.ts"),
      "nobody",
      name,
    ]);
    const res = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: stage.env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(res.stderr);
    equal(res.signal, null, err);
    deepEqual(JSON.parse(new TextDecoder().decode(res.stdout).trim()), {
      memfd: "ENOMEM MemTotal",
      shm: "ENOMEM MemTotal",
      semaphore: "EINVAL",
      sealed: "ok",
    });
  } finally {
    removeSemaphore(name);
  }
});
