import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { createFifo, IpcError, openFifo, removeFifo, tryOpenFifo } from "../mod.ts";
import { buildC, fdsTo, tempDir } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("createFifo() creates a FIFO with mode 0600 by default, exactly as asked otherwise", () => {
  using dir = tempDir();
  createFifo(`${dir.path}/a`);
  const a = Deno.lstatSync(`${dir.path}/a`);
  ok(a.isFifo);
  equal(a.mode! & 0o7777, 0o600);
  createFifo(`${dir.path}/b`, { mode: 0o666 }); // wider than a typical umask allows
  equal(Deno.lstatSync(`${dir.path}/b`).mode! & 0o7777, 0o666);
});

Deno.test("createFifo() rejects bad input with typed errors", () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  throws(
    () => createFifo(path, { mode: 0o10000 }),
    (e) => e instanceof IpcError && e.code === "EINVAL",
  );
  throws(() => createFifo(path, { mode: -1 }), (e) => e instanceof IpcError && e.code === "EINVAL");
  throws(() => createFifo(""), (e) => e instanceof IpcError && e.code === "EINVAL");
  throws(() => createFifo(`${dir.path}/x\0y`), (e) => e instanceof IpcError && e.code === "EINVAL");
  throws(() => createFifo(`${dir.path}/missing/f`), (e) => {
    ok(e instanceof Deno.errors.NotFound);
    equal((e as IpcError).code, "ENOENT");
    equal((e as IpcError).syscall, "mkfifo");
    return true;
  });
  Deno.writeTextFileSync(path, "a regular file");
  throws(
    () => createFifo(path),
    (e) => e instanceof Deno.errors.AlreadyExists && (e as IpcError).code === "EEXIST",
  );
});

Deno.test("openFifo() refuses a path that is a regular file, and leaks nothing", async () => {
  using dir = tempDir();
  const path = `${dir.path}/plain`;
  Deno.writeTextFileSync(path, "x");
  await rejects(openFifo(path, "read"), (e) => e instanceof IpcError && e.code === "EINVAL");
  await rejects(openFifo(path, "write"), (e) => e instanceof IpcError && e.code === "EINVAL");
  deepEqual(fdsTo(path), [], "the refused opens were closed");
  throws(() => removeFifo(path), (e) => e instanceof IpcError && e.code === "EINVAL");
  ok(Deno.statSync(path).isFile, "removeFifo() left the regular file alone");
  await rejects(openFifo(`${dir.path}/nothing`, "read"), (e) => e instanceof Deno.errors.NotFound);
  await rejects(
    openFifo(path, "sideways" as "read"),
    (e) => e instanceof IpcError && e.code === "EINVAL",
  );
});

Deno.test("openFifo() for writing waits for a reader and times out when none comes", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path);
  equal(tryOpenFifo(path, "write"), null);
  const t0 = performance.now();
  await rejects(
    openFifo(path, "write", { timeout: 150 }),
    (e) => e instanceof Deno.errors.TimedOut,
  );
  ok(performance.now() - t0 >= 145);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 30);
  await rejects(
    openFifo(path, "read", { signal: ac.signal }),
    (e) => (e as Error).name === "AbortError",
  );
});

Deno.test("both ends opened concurrently in one process connect", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path);
  const [r, w] = await Promise.all([openFifo(path, "read"), openFifo(path, "write")]);
  using reader = r;
  using writer = w;
  await writer.writeAll(enc.encode("hi there"));
  writer.close();
  equal(dec.decode(await reader.readAll()), "hi there");
});

Deno.test("a FIFO reader sees a writer that connects late, and EOF when it leaves", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path);
  const reading = openFifo(path, "read", { timeout: 5000 });
  await new Promise((r) => setTimeout(r, 100));
  using w = await openFifo(path, "write");
  using r = await reading;
  await w.writeAll(enc.encode("late"));
  w.close();
  equal(dec.decode(await r.readAll()), "late");
});

Deno.test("FIFOs interoperate with a C peer using blocking open() both ways", async () => {
  const bin = await buildC("pipe_peer.c");
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path);
  // C writes, ipckit reads.
  const writer = new Deno.Command(bin, { args: ["fifo-write", path, "from C"] }).spawn();
  {
    using r = await openFifo(path, "read", { timeout: 10_000 });
    equal(dec.decode(await r.readAll({ timeout: 10_000 })), "from C");
  }
  equal((await writer.status).code, 0);
  // ipckit writes, C reads.
  const reader = new Deno.Command(bin, { args: ["fifo-read", path], stdout: "piped" }).spawn();
  {
    using w = await openFifo(path, "write", { timeout: 10_000 });
    await w.writeAll(enc.encode("from Deno"));
  }
  const out = await reader.output();
  equal(dec.decode(out.stdout), "from Deno");
});

Deno.test("FIFOs made by mkfifo(1) work, and ours work with the shell", async () => {
  using dir = tempDir();
  const theirs = `${dir.path}/theirs`;
  equal((await new Deno.Command("mkfifo", { args: [theirs] }).output()).code, 0);
  const sh = new Deno.Command("bash", { args: ["-c", `echo shell > ${theirs}`] }).spawn();
  {
    using r = await openFifo(theirs, "read", { timeout: 10_000 });
    equal(dec.decode(await r.readAll()), "shell\n");
  }
  await sh.status;
  const ours = `${dir.path}/ours`;
  createFifo(ours);
  const cat = new Deno.Command("cat", { args: [ours], stdout: "piped" }).spawn();
  {
    using w = await openFifo(ours, "write", { timeout: 10_000 });
    await w.writeAll(enc.encode("to cat"));
  }
  equal(dec.decode((await cat.output()).stdout), "to cat");
  removeFifo(ours);
  throws(() => Deno.lstatSync(ours), Deno.errors.NotFound);
});

Deno.test("the FIFO sequence-number example serves several client processes", async () => {
  const { serve } = await import("../examples/fifo_sequence_server.ts");
  using dir = tempDir();
  const server = serve(dir.path, 6, () => {});
  const script = new URL("../examples/fifo_sequence_server.ts", import.meta.url).pathname;
  const clients = await Promise.all([0, 1, 2].map(() =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check", script, "client", dir.path, "2"],
      stdout: "piped",
    }).output()
  ));
  await server;
  const numbers = clients.flatMap((c) => dec.decode(c.stdout).trim().split(" ").map(Number)).sort((
    a,
    b,
  ) => a - b);
  equal(numbers.join(","), "1,2,3,4,5,6");
});

Deno.test("tryOpenFifo() never waits: null without a peer, a handle with one", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path);
  equal(tryOpenFifo(path, "write"), null);
  equal(tryOpenFifo(path, "read"), null);
  deepEqual(fdsTo(path), [], "a read end without a writer is not kept");
  const reading = openFifo(path, "read", { timeout: 5000 });
  await new Promise((r) => setTimeout(r, 20));
  const w = tryOpenFifo(path, "write");
  ok(w, "a reader is waiting, so the write end opens at once");
  using writer = w;
  using reader = await reading;
  using second = tryOpenFifo(path, "read");
  ok(second, "a writer is connected, so a read end opens at once");
  await writer.writeAll(enc.encode("x"));
  throws(
    () => tryOpenFifo(path, "both" as "read"),
    (e) => e instanceof IpcError && e.code === "EINVAL",
  );
  throws(() => tryOpenFifo(`${dir.path}/none`, "write"), (e) => e instanceof Deno.errors.NotFound);
  equal(reader.tryRead(new Uint8Array(1)) ?? second.tryRead(new Uint8Array(1)), 1);
});

Deno.test("openFifo() with create makes a missing FIFO with the mode asked, reuses an existing one", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  await rejects(openFifo(path, "write", { timeout: 0 }), (e) => e instanceof Deno.errors.NotFound);
  await rejects(
    openFifo(path, "write", { create: { mode: 0o640 }, timeout: 0 }),
    (e) => e instanceof Deno.errors.TimedOut,
  );
  ok(Deno.lstatSync(path).isFifo);
  equal(Deno.lstatSync(path).mode! & 0o7777, 0o640);
  // An existing FIFO is opened as it is (its mode is not changed).
  const [r, w] = await Promise.all([
    openFifo(path, "read", { create: true }),
    openFifo(path, "write", { create: { mode: 0o600 } }),
  ]);
  r.close();
  w.close();
  equal(Deno.lstatSync(path).mode! & 0o7777, 0o640);
  // Something that is not a FIFO is still refused.
  Deno.writeTextFileSync(`${dir.path}/plain`, "x");
  await rejects(
    openFifo(`${dir.path}/plain`, "read", { create: true }),
    (e) => e instanceof IpcError && e.code === "EINVAL",
  );
});

Deno.test("openFifo() refuses bad options before touching the path", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  for (
    const options of [
      { timeout: null },
      { timeout: -1 },
      { timeout: "5" },
      { create: { mode: 0o10000 } },
      { create: "yes" },
      { trust: "nobody" },
    ]
  ) {
    await rejects(
      openFifo(path, "read", options as unknown as { timeout: number }),
      (e) => e instanceof IpcError && e.code === "EINVAL",
      JSON.stringify(options),
    );
  }
  await rejects(
    openFifo(path, "read", { create: true, signal: AbortSignal.abort(new Error("gone")) }),
    (e) => (e as Error).message === "gone",
  );
  throws(() => Deno.lstatSync(path), Deno.errors.NotFound, "nothing was created");
});

Deno.test("openFifo() refuses a FIFO others may write unless trust is any", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path, { mode: 0o622 });
  await rejects(
    openFifo(path, "read", { timeout: 0 }),
    (e) => e instanceof Deno.errors.PermissionDenied && (e as IpcError).code === "EPERM",
  );
  deepEqual(fdsTo(path), [], "the refused read end was closed");
  throws(
    () => tryOpenFifo(path, "read"),
    (e) => e instanceof IpcError && e.code === "EPERM",
  );
  await rejects(
    openFifo(path, "read", { timeout: 0, trust: "any" }),
    (e) => e instanceof Deno.errors.TimedOut,
  );
});
