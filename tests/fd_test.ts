import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { createPipe, FdHandle, IpcError } from "../mod.ts";
import { fdsTo, fdTarget } from "./_helpers.ts";

Deno.test("FdHandle rejects a number that is not a descriptor", () => {
  throws(() => new FdHandle(999_999), (e) => e instanceof IpcError && e.code === "EBADF");
  throws(() => new FdHandle(-1), (e) => e instanceof IpcError && e.code === "EINVAL");
  throws(() => new FdHandle(1.5), (e) => e instanceof IpcError && e.code === "EINVAL");
});

Deno.test("a closed FdHandle throws BadResource and never touches a reused number", async () => {
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

Deno.test("writeAll() delivers 4 MiB through a 64 KiB pipe in order across partial writes", async () => {
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

Deno.test("write() to a pipe whose reader closed throws BrokenPipe and the process lives", async () => {
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
