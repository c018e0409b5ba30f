import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { createPipe, FdHandle, IpcError } from "../mod.ts";
import { command, fdsTo, fdTarget } from "./_helpers.ts";

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const einval = (syscall: string) => (e: unknown) => {
  ok(e instanceof IpcError, `expected an IpcError, got ${e}`);
  equal(e.code, "EINVAL");
  equal(e.syscall, syscall);
  return true;
};

Deno.test("FdHandle rejects a number that is not a descriptor", () => {
  throws(() => new FdHandle(999_999), (e) => e instanceof IpcError && e.code === "EBADF");
  throws(() => new FdHandle(-1), (e) => e instanceof IpcError && e.code === "EINVAL");
  throws(() => new FdHandle(1.5), (e) => e instanceof IpcError && e.code === "EINVAL");
});

Deno.test("case 20: a closed FdHandle throws BadResource and never touches a reused number", async () => {
  const p = createPipe();
  const n = p.reader.fd;
  p.reader.close();
  p.reader.close(); // idempotent
  equal(p.reader.closed, true);
  // The number is free: the next pipe reuses it. The old handle must not touch it.
  using q = createPipe();
  equal(q.reader.fd, n);
  throws(() => p.reader.tryRead(new Uint8Array(1)), (e) => e instanceof Deno.errors.BadResource);
  await rejects(p.reader.read(new Uint8Array(1)), (e) => e instanceof Deno.errors.BadResource);
  throws(() => p.reader.closeOnExec, (e) => e instanceof IpcError && e.code === "EBADF");
  p.reader.close();
  // q.reader still open and usable.
  await q.writer.write(new Uint8Array([9]));
  equal(q.reader.tryRead(new Uint8Array(1)), 1);
  p.writer.close();
});

Deno.test("tryRead() returns null when empty and 0 at end of file; read() returns null at EOF", async () => {
  using p = createPipe();
  equal(p.reader.tryRead(new Uint8Array(4)), null);
  p.writer.close();
  equal(p.reader.tryRead(new Uint8Array(4)), 0);
  equal(await p.reader.read(new Uint8Array(4)), null);
});

Deno.test("case 29: writeAll() delivers 4 MiB through a 64 KiB pipe in order across partial writes", async () => {
  using p = createPipe();
  const data = new Uint8Array(4 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 13)) & 0xff;
  const n = p.writer.tryWrite(data)!;
  ok(n > 0 && n < data.length, `a partial write, got ${n}`);
  const [got] = await Promise.all([
    p.reader.readAll(),
    p.writer.writeAll(data.subarray(n)).then(() => p.writer.close()),
  ]);
  equal(got.length, data.length);
  deepEqual(got, data);
});

Deno.test("case 30: write() to a pipe whose reader closed throws BrokenPipe and the process lives", async () => {
  using p = createPipe();
  p.reader.close();
  await rejects(p.writer.write(new Uint8Array([1])), (e) => {
    ok(e instanceof Deno.errors.BrokenPipe);
    equal((e as IpcError).code, "EPIPE");
    return true;
  });
});

Deno.test("readable and writable streams carry bytes end to end", async () => {
  using p = createPipe();
  const text = "line one\nline two\n".repeat(5000);
  const writing = (async () => {
    const w = p.writer.writable.getWriter();
    await w.write(new TextEncoder().encode(text));
    await w.close();
    p.writer.close();
  })();
  const got = await new Response(p.reader.readable).text();
  await writing;
  equal(got, text);
});

Deno.test("nonBlocking and closeOnExec flags can be read and changed", () => {
  using p = createPipe();
  equal(p.reader.nonBlocking, true);
  equal(p.reader.closeOnExec, true);
  p.reader.closeOnExec = false;
  equal(p.reader.closeOnExec, false);
  p.reader.nonBlocking = false;
  equal(p.reader.nonBlocking, false);
  p.reader.nonBlocking = true;
  equal(p.reader.nonBlocking, true);
});

Deno.test("release() hands the descriptor over without closing it", () => {
  const p = createPipe();
  const pipe = fdTarget(p.reader.fd);
  const n = p.reader.release();
  equal(p.reader.closed, true);
  equal(fdTarget(n), pipe, "still open after release()");
  const again = new FdHandle(n);
  again.close();
  p.writer.close();
  equal(fdsTo(pipe).length, 0);
});

Deno.test("case 30: EPIPE, not death, also in a child started with SIGPIPE at its default", async () => {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const code = `import { createPipe } from "${mod}";
const p = createPipe();
p.reader.close();
try { p.writer.tryWrite(new Uint8Array(1)); } catch (e) { console.log(e.code); }
try { await p.writer.writeAll(new Uint8Array(1 << 20)); } catch (e) { console.log(e.code); }`;
  const out = await command("env", [
    "--default-signal=PIPE",
    Deno.execPath(),
    "eval",
    "--no-check",
    code,
  ], { stdout: "piped", stderr: "piped" }).output();
  equal(new TextDecoder().decode(out.stderr), "");
  equal(out.signal, null, "not killed by SIGPIPE");
  equal(new TextDecoder().decode(out.stdout), "EPIPE\nEPIPE\n");
});

Deno.test("case 21: a buffer detached while read() waits is refused (EINVAL): no false end of file, no lost data", async () => {
  using p = createPipe();
  const ab = new ArrayBuffer(16);
  const pending = p.reader.read(new Uint8Array(ab));
  await sleep(20); // parked in the reactor
  ab.transfer(); // the caller takes the memory away
  await p.writer.write(enc.encode("data"));
  await rejects(pending, einval("read"));
  const buf = new Uint8Array(16);
  equal(await p.reader.read(buf, { timeout: 1000 }), 4, "the data is still in the pipe");
  // Shrinking a resizable buffer below what the read started with is refused too,
  // for a fixed-length view (now out of bounds) and a length-tracking one.
  for (const tracking of [false, true]) {
    const rab = new ArrayBuffer(16, { maxByteLength: 32 });
    const view = tracking ? new Uint8Array(rab) : new Uint8Array(rab, 0, 16);
    const shrunk = p.reader.read(view);
    await sleep(20);
    rab.resize(2);
    await p.writer.write(enc.encode("more"));
    await rejects(shrunk, einval("read"));
    equal(await p.reader.read(buf, { timeout: 1000 }), 4, "the data is still in the pipe");
  }
  // Growing is harmless.
  const rab = new ArrayBuffer(4, { maxByteLength: 32 });
  const grows = p.reader.read(new Uint8Array(rab));
  await sleep(20);
  rab.resize(32);
  await p.writer.write(enc.encode("grow"));
  equal(await grows, 4);
});

Deno.test("case 21: writeAll() whose data is detached while it waits rejects instead of reporting success", async () => {
  using p = createPipe();
  const data = new Uint8Array(1 << 20);
  const writing = p.writer.writeAll(data);
  writing.catch(() => {}); // handled below, after the reader made room
  await sleep(20); // the pipe is full: parked
  data.buffer.transfer();
  await p.reader.readAll({ timeout: 50 }).catch(() => {}); // make room
  await rejects(writing, einval("write"));
});

Deno.test("case 42: detached, wrong-typed and shared buffers: EINVAL before the call or normal I/O, never a TypeError", async () => {
  using p = createPipe();
  const detached = new Uint8Array(8);
  detached.buffer.transfer();
  for (const buf of [detached, "abc", null, undefined, 5, 5n, {}, [1, 2], new ArrayBuffer(4)]) {
    const b = buf as unknown as Uint8Array;
    throws(() => p.reader.tryRead(b), einval("read"));
    throws(() => p.writer.tryWrite(b), einval("write"));
    await rejects(p.reader.read(b), einval("read"));
    await rejects(p.writer.write(b), einval("write"));
    await rejects(p.writer.writeAll(b), einval("write"));
  }
  // A SharedArrayBuffer, a resizable buffer and other typed arrays carry bytes as usual
  // (every attempt is a synchronous call on this thread).
  const shared = new Uint8Array(new SharedArrayBuffer(4));
  shared.set([1, 2, 3, 4]);
  await p.writer.writeAll(shared);
  const resizable = new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 }));
  equal(await p.reader.read(resizable), 4);
  deepEqual([...resizable], [1, 2, 3, 4]);
  await p.writer.writeAll(new Uint16Array([0x0201]) as unknown as Uint8Array);
  equal(p.reader.tryRead(new Uint8Array(new SharedArrayBuffer(8))), 2);
});

Deno.test("case 41: buffers of pending reads kept only by the read survive a forced gc()", async () => {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const code = `import { createPipe } from "${mod}";
const pipes = Array.from({ length: 40 }, () => createPipe());
const reads = pipes.map((p) => {
  const buf = new Uint8Array(4096);
  return p.reader.read(buf).then((n) => new TextDecoder().decode(buf.subarray(0, n)));
});
await new Promise((r) => setTimeout(r, 20));
for (let i = 0; i < 20; i++) { new Array(1e5).fill({}); gc(); }
for (const [i, p] of pipes.entries()) await p.writer.write(new TextEncoder().encode("pipe " + i));
const got = await Promise.all(reads);
console.log(got.every((t, i) => t === "pipe " + i) ? "intact" : JSON.stringify(got));
for (const p of pipes) p[Symbol.dispose]();`;
  const out = await command(Deno.execPath(), [
    "eval",
    "--no-check",
    "--v8-flags=--expose-gc",
    code,
  ], { stdout: "piped", stderr: "piped" }).output();
  equal(new TextDecoder().decode(out.stderr), "");
  equal(new TextDecoder().decode(out.stdout).trim(), "intact");
});

Deno.test("Descriptor and FdHandle give EINVAL for arguments of the wrong type", () => {
  for (const fd of [NaN, "3", 3n, null, undefined, Infinity, 2 ** 31, Symbol("fd")]) {
    throws(() => new FdHandle(fd as unknown as number), einval("fcntl"));
  }
  // -0 is descriptor 0 (FFI would refuse -0 as an i32 with a TypeError).
  const zero = new FdHandle(-0, { nonBlocking: false });
  equal(zero.fd, 0);
  zero.release();
  using p = createPipe();
  const fd = p.reader.fd;
  for (const options of [null, 5, "x"]) {
    throws(() => new FdHandle(fd, options as unknown as { name: string }), einval("fcntl"));
  }
  throws(() => new FdHandle(fd, { name: 5 as unknown as string }), einval("fcntl"));
  throws(() => new FdHandle(fd, { nonBlocking: "no" as unknown as boolean }), einval("fcntl"));
  for (const v of [undefined, null, 1, "true"]) {
    throws(() => (p.reader.closeOnExec = v as unknown as boolean), einval("fcntl(F_SETFD)"));
    throws(() => (p.reader.nonBlocking = v as unknown as boolean), einval("fcntl(F_SETFL)"));
  }
  equal(p.reader.closeOnExec, true, "unchanged");
  equal(p.reader.nonBlocking, true, "unchanged");
});
