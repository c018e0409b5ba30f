import { deepEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { createFifo, IpcError, openFifo, removeFifo, tryOpenFifo } from "../mod.ts";
import {
  buildC,
  command,
  fdsTo,
  ipckitInProcess,
  ipcTaskFlags,
  spawnReady,
  tempDir,
} from "./_helpers.ts";
import { otherUserSupport } from "../examples/_as_user.ts";

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

Deno.test("case 33: openFifo() for writing waits for a reader (never a blocking open) and times out when none comes", async () => {
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

Deno.test("FIFO calls never follow a symlink, and refuse what is not a FIFO", async () => {
  using dir = tempDir();
  const real = `${dir.path}/real`;
  createFifo(real);
  const link = `${dir.path}/link`;
  Deno.symlinkSync(real, link);
  const loop = (e: unknown) => e instanceof IpcError && e.code === "ELOOP" && e.syscall === "open";
  await rejects(openFifo(link, "read", { timeout: 0 }), loop);
  await rejects(openFifo(link, "write", { timeout: 0 }), loop);
  await rejects(openFifo(link, "read", { create: true, timeout: 0 }), loop);
  throws(() => tryOpenFifo(link, "read"), loop);
  throws(() => tryOpenFifo(link, "write"), loop);
  deepEqual(fdsTo(real), [], "nothing was left open");
  // mkfifo never creates through a symlink, even a dangling one.
  const dangling = `${dir.path}/dangling`;
  Deno.symlinkSync(`${dir.path}/target`, dangling);
  throws(() => createFifo(dangling), (e) => e instanceof IpcError && e.code === "EEXIST");
  throws(() => Deno.lstatSync(`${dir.path}/target`), Deno.errors.NotFound);
  // removeFifo() removes neither the symlink nor what it points to.
  throws(() => removeFifo(link), (e) => e instanceof IpcError && e.code === "EINVAL");
  ok(Deno.lstatSync(link).isSymlink);
  ok(Deno.lstatSync(real).isFifo);
  Deno.mkdirSync(`${dir.path}/d`);
  throws(() => removeFifo(`${dir.path}/d`), (e) => e instanceof IpcError && e.code === "EINVAL");
  await rejects(
    openFifo(`${dir.path}/d`, "read", { timeout: 0 }),
    (e) => e instanceof IpcError && e.code === "EINVAL",
  );
});

Deno.test("case 6: a 0666 FIFO planted by another uid, holding data, is refused by default", async (t) => {
  const support = otherUserSupport();
  if (!support.ok) {
    console.log(`skipped: ${support.reason}`);
    return;
  }
  using dir = tempDir();
  Deno.chmodSync(dir.path, 0o1777); // a shared /tmp-like directory
  const path = `${dir.path}/planted`;
  // uid 1 makes the FIFO, keeps it open read-write and writes into it.
  const script = "import os,sys\n" +
    "p=sys.argv[1]\nos.mkfifo(p,0o666)\nos.chmod(p,0o666)\n" +
    "fd=os.open(p,os.O_RDWR)\nos.write(fd,b'planted data')\n" +
    "print('ready',flush=True)\nsys.stdin.read()\n";
  await using planter = await spawnReady("setpriv", [
    "--reuid=1",
    "--regid=1",
    "--clear-groups",
    "/usr/bin/python3",
    "-c",
    script,
    path,
  ], { stdin: "piped" });
  equal(Deno.lstatSync(path).uid, 1);
  const untrusted = (e: unknown) =>
    e instanceof Deno.errors.PermissionDenied && (e as IpcError).code === "EPERM" &&
    /owned by uid 1/.test((e as Error).message);
  await t.step("openFifo() and tryOpenFifo() refuse it for reading and writing", async () => {
    await rejects(openFifo(path, "read", { timeout: 1000 }), untrusted);
    await rejects(openFifo(path, "write", { timeout: 1000 }), untrusted);
    await rejects(openFifo(path, "read", { create: true, timeout: 1000 }), untrusted);
    throws(() => tryOpenFifo(path, "read"), untrusted);
    deepEqual(fdsTo(path), [], "the refused ends were closed");
  });
  await t.step("trustedUids alone does not accept a FIFO others may write", async () => {
    await rejects(
      openFifo(path, "read", { timeout: 1000, trustedUids: [1] }),
      (e) =>
        e instanceof IpcError && e.code === "EPERM" && /writable by group or others/.test(
          (e as Error).message,
        ),
    );
  });
  await t.step("the data is still there: nothing was read", async () => {
    using r = await openFifo(path, "read", { timeout: 1000, trust: "any" });
    const buf = new Uint8Array(64);
    const n = await r.read(buf, { timeout: 1000 });
    equal(dec.decode(buf.subarray(0, n!)), "planted data");
  });
  planter.process.stdin!.close();
});

Deno.test("createFifo() sets the exact mode on the FIFO it made, whatever the umask", () => {
  using dir = tempDir();
  const old = Deno.umask(0o077);
  try {
    createFifo(`${dir.path}/f`, { mode: 0o644 });
  } finally {
    Deno.umask(old);
  }
  equal(Deno.lstatSync(`${dir.path}/f`).mode! & 0o7777, 0o644);
  deepEqual(fdsTo(`${dir.path}/f`), [], "the pinning descriptor was closed");
});

Deno.test("FIFO functions give EINVAL naming the call for arguments of the wrong type", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  const bad = (syscall: string) => (e: unknown) => {
    ok(e instanceof IpcError, `not an IpcError: ${e}`);
    equal(e.code, "EINVAL");
    equal(e.syscall, syscall);
    return true;
  };
  for (const p of [undefined, null, 5, 5n, Symbol("s"), {}, ["a"]]) {
    throws(() => createFifo(p as unknown as string), bad("mkfifo"));
    throws(() => removeFifo(p as unknown as string), bad("unlink"));
    throws(() => tryOpenFifo(p as unknown as string, "read"), bad("open"));
    await rejects(openFifo(p as unknown as string, "read"), bad("open"));
  }
  for (const o of [null, 5, "x", 5n, Symbol("o")]) {
    throws(() => createFifo(path, o as unknown as { mode: number }), bad("mkfifo"));
    throws(() => tryOpenFifo(path, "read", o as unknown as { trust: "any" }), bad("open"));
    await rejects(openFifo(path, "read", o as unknown as { timeout: number }), bad("open"));
  }
  for (const mode of [NaN, 1.5, "0600", 0o600n, null, Infinity]) {
    throws(() => createFifo(path, { mode } as unknown as { mode: number }), bad("mkfifo"));
  }
  for (const end of [undefined, null, 0, Symbol("e"), "READ"]) {
    throws(() => tryOpenFifo(path, end as unknown as "read"), bad("open"));
  }
  await rejects(openFifo(path, "read", { trustedUids: [-1] }), bad("open"));
  await rejects(
    openFifo(path, "read", { timeout: 2n } as unknown as { timeout: number }),
    bad("open"),
  );
  throws(() => Deno.lstatSync(path), Deno.errors.NotFound, "nothing was created");
});

Deno.test("ipckit fifo create takes several paths and -m/--mode, like mkfifo", async () => {
  using dir = tempDir();
  const [a, b, c] = ["a", "b", "c"].map((n) => `${dir.path}/${n}`);
  const made = await ipckitInProcess(["fifo", "create", "-m", "0644", a, b]);
  equal(made.code, 0, made.stderr);
  for (const p of [a, b]) {
    ok(Deno.lstatSync(p).isFifo);
    equal(Deno.lstatSync(p).mode! & 0o7777, 0o644);
  }
  // One failure does not stop the others; the exit code says something failed.
  const again = await ipckitInProcess(["fifo", "create", a, c, "--mode", "0600"]);
  equal(again.code, 1);
  equal(again.stderr, `ipckit: mkfifo "${a}": path already exists (EEXIST)\n`);
  equal(Deno.lstatSync(c).mode! & 0o7777, 0o600);
  equal((await ipckitInProcess(["fifo", "create"])).code, 2);
  equal((await ipckitInProcess(["fifo", "create", `${dir.path}/d`, "-m", "999"])).code, 2);
});

Deno.test("ipckit fifo cat --follow keeps reading across writers (end to end)", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path);
  const cli = new URL("../lib/cli/main.ts", import.meta.url).pathname;
  const cat = command(Deno.execPath(), [
    "run",
    ...ipcTaskFlags(),
    cli,
    "fifo",
    "cat",
    "--follow",
    "--timeout",
    "3000",
    path,
  ], { stdout: "piped", stderr: "piped" }).spawn();
  // Writers one after the other, as shell scripts do, as fast as the shell
  // goes: a writer that opens while cat is between two read ends must not
  // lose its line.
  const sh = await new Deno.Command("sh", {
    args: ["-c", 'i=1; while [ $i -le 40 ]; do echo "line $i" > "$0"; i=$((i+1)); done', path],
  }).output();
  equal(sh.code, 0);
  const out = await cat.output();
  const expected = Array.from({ length: 40 }, (_, i) => `line ${i + 1}\n`).join("");
  equal(dec.decode(out.stdout), expected);
  equal(out.code, 124, "ends when no further writer comes within --timeout");
});

Deno.test("ipckit fifo cat without --follow stops at the first writer's end", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path);
  const catting = ipckitInProcess(["fifo", "cat", path, "--timeout", "5000"]);
  using w = await openFifo(path, "write", { timeout: 5000 });
  await w.writeAll(enc.encode("only this"));
  w.close();
  const r = await catting;
  equal(r.code, 0);
  equal(r.stdout, "only this");
  const link = `${dir.path}/link`;
  Deno.symlinkSync(path, link);
  const refused = await ipckitInProcess(["fifo", "cat", link, "--timeout", "100"]);
  equal(refused.code, 1);
  match(refused.stderr, /symbolic link/);
});
