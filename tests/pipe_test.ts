import { deepEqual, equal, throws } from "node:assert/strict";
import {
  createPipe,
  FdHandle,
  IpcError,
  pipeCapacity,
  setPipeCapacity,
  withInheritedFds,
} from "../mod.ts";
import { cstr, libc } from "../ffi/libc.ts";
import { buildC, denoArgs, fdsTo, fdTarget } from "./_helpers.ts";

Deno.test("createPipe() makes a non-blocking, close-on-exec pair", () => {
  let pipe = "";
  {
    using p = createPipe();
    equal(p.reader.nonBlocking, true);
    equal(p.writer.closeOnExec, true);
    pipe = fdTarget(p.reader.fd);
    equal(fdTarget(p.writer.fd), pipe);
    deepEqual(fdsTo(pipe).sort(), [p.reader.fd, p.writer.fd].sort());
  }
  deepEqual(fdsTo(pipe), [], "both ends closed by dispose");
  using q = createPipe({ closeOnExec: false });
  equal(q.writer.closeOnExec, false);
});

Deno.test("pipeCapacity() and setPipeCapacity() read and change the buffer size", () => {
  using p = createPipe();
  equal(pipeCapacity(p.reader), 65536);
  equal(setPipeCapacity(p.writer, 1 << 20), 1 << 20);
  equal(pipeCapacity(p.reader), 1 << 20);
  equal(setPipeCapacity(p.writer, 5000), 8192); // rounded up to pages
  throws(() => setPipeCapacity(p.writer, 0), (e) => e instanceof IpcError && e.code === "EINVAL");
  throws(() => setPipeCapacity(p.writer, -5), (e) => e instanceof IpcError && e.code === "EINVAL");
});

Deno.test("pipeCapacity() of something that is not a pipe fails with a typed error", () => {
  using devNull = new FdHandle(libc().open(cstr("/dev/null"), 0, 0), { name: "/dev/null" });
  throws(() => pipeCapacity(devNull), (e) => e instanceof IpcError && e.code === "EBADF");
  const p = createPipe();
  p.reader.close();
  throws(() => pipeCapacity(p.reader), (e) => e instanceof Deno.errors.BadResource);
  p.writer.close();
});

Deno.test("packet mode keeps each write a separate message", async () => {
  using p = createPipe({ packet: true });
  await p.writer.write(new Uint8Array([1, 2, 3]));
  await p.writer.write(new Uint8Array([4, 5]));
  const buf = new Uint8Array(100);
  equal(await p.reader.read(buf), 3);
  equal(await p.reader.read(buf), 2);
});

Deno.test("a pipe end handed to a Deno child carries its output back", async () => {
  using p = createPipe();
  const [exe, args] = denoArgs(new URL("./fixtures/pipe_child.ts", import.meta.url), [
    "write-fd",
    String(p.writer.fd),
    "hello from the child",
  ]);
  const child = withInheritedFds([p.writer], () => new Deno.Command(exe, { args }).spawn());
  equal(p.writer.closeOnExec, true, "close-on-exec restored after the spawn");
  p.writer.close();
  const got = new TextDecoder().decode(await p.reader.readAll({ timeout: 20_000 }));
  equal((await child.status).code, 0);
  equal(got, "hello from the child");
});

Deno.test("a pipe end handed to a C child and to a shell works like any pipe", async () => {
  const bin = await buildC("pipe_peer.c");
  using p = createPipe();
  // A C program expects a blocking descriptor: hand the end over.
  const child = withInheritedFds(
    [p.writer],
    () => new Deno.Command(bin, { args: ["write", String(p.writer.fd), "100000"] }).spawn(),
    { handOver: true },
  );
  equal(p.writer.closed, true, "handOver closes our copy");
  equal(p.reader.nonBlocking, true, "the read end stays non-blocking");
  const got = await p.reader.readAll({ timeout: 10_000 });
  equal((await child.status).code, 0);
  equal(got.length, 100000);
  for (let i = 0; i < got.length; i += 997) equal(got[i], i % 251);

  using q = createPipe();
  const sh = withInheritedFds(
    [q.writer],
    () =>
      new Deno.Command("bash", { args: ["-c", `printf 'shell says hi' >&${q.writer.fd}`] }).spawn(),
  );
  q.writer.close();
  equal(new TextDecoder().decode(await q.reader.readAll({ timeout: 10_000 })), "shell says hi");
  equal((await sh.status).code, 0);
});

Deno.test("pipe functions give EINVAL naming the call for arguments of the wrong type", () => {
  const bad = (syscall: string) => (e: unknown) =>
    e instanceof IpcError && e.code === "EINVAL" && e.syscall === syscall;
  for (const options of [null, 5, "x", { closeOnExec: "yes" }, { packet: 1 }]) {
    throws(() => createPipe(options as unknown as { packet: boolean }), bad("pipe2"));
  }
  using p = createPipe();
  for (const h of [null, undefined, 5, "pipe", {}, { fd: 0 }]) {
    throws(() => pipeCapacity(h as unknown as FdHandle), bad("fcntl(F_GETPIPE_SZ)"));
    throws(() => setPipeCapacity(h as unknown as FdHandle, 4096), bad("fcntl(F_SETPIPE_SZ)"));
  }
  for (const n of [NaN, 4096n, "4096", null, 2 ** 31, 1.5, Symbol("n")]) {
    throws(() => setPipeCapacity(p.writer, n as unknown as number), bad("fcntl(F_SETPIPE_SZ)"));
  }
  throws(() => withInheritedFds([p.writer], 5 as unknown as () => void), bad("fcntl(F_SETFD)"));
  throws(() => withInheritedFds([5 as unknown as FdHandle], () => 1), bad("fcntl(F_SETFD)"));
  throws(() => withInheritedFds(null as unknown as FdHandle[], () => 1), bad("fcntl(F_SETFD)"));
  equal(p.writer.closeOnExec, true, "nothing was changed");
});
