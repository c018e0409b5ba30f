import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  IpcError,
  lockFile,
  lockHolders,
  openLockFile,
  singleInstance,
  tryLockFile,
  withLock,
} from "../mod.ts";
import { asNobodyTest, buildC, denoArgs, evalAsNobody, spawnReady, tempDir } from "./_helpers.ts";

/** Open descriptors of this process on files under `dir` (others' fds come and go in parallel). */
function fdsUnder(dir: string): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(dir)) n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

function flockCli(args: string[]): Promise<number> {
  return new Deno.Command("flock", { args, stdout: "null", stderr: "null" }).output()
    .then((o) => o.code);
}

/** flock(1) on fd 9 of a shell that then becomes `sleep`: killing it frees the lock. */
function holdWithFlock(path: string, shared = false) {
  return spawnReady("sh", [
    "-c",
    `exec 9>>"$1"; flock ${shared ? "-s" : "-x"} 9; echo ready; exec sleep 60`,
    "sh",
    path,
  ]);
}

function isIpc(code: string, cls?: new (...a: any[]) => Error) {
  return (e: unknown) => {
    ok(e instanceof IpcError, `not an IpcError: ${e}`);
    equal((e as IpcError).code, code);
    if (cls) ok(e instanceof cls, `not a ${cls.name}`);
    return true;
  };
}

Deno.test("lockFile() excludes flock(1) while held and lets it in after release", async () => {
  using dir = tempDir();
  const path = `${dir.path}/a.lock`;
  {
    using lock = await lockFile(path);
    equal(lock.kind, "flock");
    equal(await flockCli(["-n", path, "true"]), 1);
    equal(await flockCli(["-n", "-s", path, "true"]), 1);
  }
  equal(await flockCli(["-n", path, "true"]), 0);
});

Deno.test("lockFile() creates the lock file with mode 0600", async () => {
  using dir = tempDir();
  const path = `${dir.path}/m.lock`;
  using _lock = await lockFile(path);
  equal(Deno.statSync(path).mode! & 0o777, 0o600);
});

Deno.test("tryLockFile() returns null while flock(1) holds the file, shared locks coexist", async () => {
  using dir = tempDir();
  const path = `${dir.path}/b.lock`;
  await using _holder = await holdWithFlock(path, true);
  equal(tryLockFile(path), null);
  using shared = tryLockFile(path, { shared: true });
  ok(shared?.held);
});

Deno.test("lockFile() waits for flock(1) to let go without blocking the event loop", async () => {
  using dir = tempDir();
  const path = `${dir.path}/c.lock`;
  await using holder = await holdWithFlock(path);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    setTimeout(() => holder.process.kill("SIGTERM"), 300);
    const t0 = performance.now();
    using lock = await lockFile(path, { timeout: 5000 });
    ok(lock.held);
    ok(performance.now() - t0 >= 250);
    ok(ticks >= 10, `event loop stalled: ${ticks} ticks`);
  } finally {
    clearInterval(timer);
  }
});

Deno.test("case 39: lockFile() times out with ETIMEDOUT and an AbortSignal rejects a pending wait", async () => {
  using dir = tempDir();
  const path = `${dir.path}/d.lock`;
  await using _holder = await holdWithFlock(path);
  const fds = fdsUnder(dir.path);
  {
    const t0 = performance.now();
    await rejects(lockFile(path, { timeout: 150 }), isIpc("ETIMEDOUT", Deno.errors.TimedOut));
    const took = performance.now() - t0;
    ok(took >= 140 && took < 1000, `took ${took} ms`);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("stop")), 50);
    await rejects(lockFile(path, { signal: ac.signal }), /stop/);
  }
  equal(fdsUnder(dir.path), fds, "descriptors leaked");
});

Deno.test("case 34: a second OFD lock from another handle in the same process would block; POSIX locks do not", () => {
  using dir = tempDir();
  const path = `${dir.path}/e`;
  using a = openLockFile(path, { create: true });
  using b = openLockFile(path, { create: true });
  using _r = a.tryLock({ start: 0, length: 10 });
  ok(_r);
  equal(b.tryLock({ start: 5, length: 1 }), null);
  using other = b.tryLock({ start: 10, length: 5 });
  ok(other, "non-overlapping range must be free");
  deepEqual(b.test({ start: 0, length: 1 }), { shared: false, start: 0, length: 10 });
  using p1 = a.tryLock({ kind: "posix", start: 100, length: 1 });
  using p2 = b.tryLock({ kind: "posix", start: 100, length: 1 });
  ok(p1 && p2, "classic locks never conflict within a process");
});

Deno.test("case 34: closing an unrelated handle keeps OFD locks (checked in /proc/locks) but drops POSIX locks", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  using a = openLockFile(path, { create: true });
  using _ofd = a.tryLock({ start: 0, length: 10 });
  using _posix = a.tryLock({ kind: "posix", start: 20, length: 10 });
  const kinds = () => lockHolders(path).map((h) => h.kind).sort();
  deepEqual(kinds(), ["ofd", "posix"]);
  openLockFile(path, { create: true }).close();
  await Deno.readFile(path); // Deno's own open/close of the file
  deepEqual(kinds(), ["ofd"]);
});

Deno.test("LockFile.test() reports the pid of a C fcntl peer's classic lock", async () => {
  using dir = tempDir();
  const path = `${dir.path}/g`;
  const bin = await buildC("fcntl_peer.c");
  await using peer = await spawnReady(bin, [path, "100", "50", "w"], { stdin: "piped" });
  using f = openLockFile(path, { create: true });
  const c = f.test({ kind: "posix", start: 120, length: 1 });
  deepEqual(c, { shared: false, start: 100, length: 50, pid: peer.process.pid });
  equal(f.tryLock({ start: 149, length: 10 }), null, "OFD locks conflict with classic ones");
  using free = f.tryLock({ start: 150, length: 10 });
  ok(free);
  const h = lockHolders(path).find((x) => x.kind === "posix");
  equal(h?.pid, peer.process.pid);
});

Deno.test("a C peer cannot take a range ipckit holds with an OFD lock", async () => {
  using dir = tempDir();
  const path = `${dir.path}/h`;
  const bin = await buildC("fcntl_peer.c");
  using f = openLockFile(path, { create: true });
  using _l = await f.lock({ start: 0, length: 8, shared: true });
  const run = (args: string[]) =>
    new Deno.Command(bin, { args, stdin: "null", stdout: "piped" }).output();
  equal((await run([path, "4", "1", "w"])).code, 1);
  equal((await run([path, "4", "1", "w", "ofd"])).code, 1);
  equal((await run([path, "4", "1", "r"])).code, 0, "shared locks coexist");
  equal((await run([path, "8", "1", "w"])).code, 0, "outside the range");
});

Deno.test("locks interoperate with Python's fcntl.flock and fcntl.lockf", async () => {
  using dir = tempDir();
  const path = `${dir.path}/i`;
  const py = (code: string) =>
    new Deno.Command("python3", { args: ["-c", code, path], stdout: "piped" }).output()
      .then((o) => new TextDecoder().decode(o.stdout).trim());
  const attempt = (call: string) =>
    `import fcntl,sys\nf=open(sys.argv[1],"r+")\ntry:\n ${call}\n print("got")\nexcept OSError as e: print("busy", e.errno)`;
  {
    using _l = await lockFile(path);
    equal(await py(attempt("fcntl.flock(f, fcntl.LOCK_EX|fcntl.LOCK_NB)")), "busy 11");
  }
  using f = openLockFile(path, { create: true });
  {
    using _r = f.tryLock({ start: 10, length: 10 });
    equal(await py(attempt("fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB, 1, 15)")), "busy 11");
    equal(await py(attempt("fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB, 1, 25)")), "got");
  }
  equal(await py(attempt("fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB, 1, 15)")), "got");
  // Python holds a classic lock: our OFD attempt sees it, test() names the pid.
  const holder = await spawnReady("python3", [
    "-c",
    'import fcntl,sys,time\nf=open(sys.argv[1],"r+")\nfcntl.lockf(f, fcntl.LOCK_EX, 5, 0)\nprint("ready", flush=True)\ntime.sleep(60)',
    path,
  ]);
  await using _h = holder;
  equal(f.tryLock({ start: 2, length: 1 }), null);
  equal(f.test({ kind: "posix", start: 0, length: 5 })?.pid, holder.process.pid);
});

Deno.test("locks from several Deno processes exclude each other (ofd and posix)", async () => {
  using dir = tempDir();
  const path = `${dir.path}/j`;
  for (const kind of ["ofd", "posix", "flock"]) {
    const [exe, args] = denoArgs(fixture("lock_child.ts"), [path, kind]);
    await using _child = await spawnReady(exe, args, { stdin: "piped" });
    using f = openLockFile(path, { create: true });
    const req = kind === "flock" ? {} : { kind: kind as "ofd" | "posix", start: 0, length: 0 };
    equal(f.tryLock(req), null, kind);
    ok(lockHolders(path).some((h) => h.kind === kind), kind);
  }
});

Deno.test("lockHolders() lists flock(1)'s lock and names our own holder's pid and command", async () => {
  using dir = tempDir();
  const path = `${dir.path}/k`;
  {
    await using _holder = await holdWithFlock(path);
    const hs = lockHolders(path);
    equal(hs.length, 1);
    equal(hs[0].kind, "flock");
    equal(hs[0].shared, false);
    // The kernel records the pid of the flock(1) process that took it.
    ok(typeof hs[0].pid === "number" && hs[0].pid > 0);
    equal(hs[0].end, null);
  }
  deepEqual(lockHolders(path), []);
  using _l = await lockFile(path, { shared: true });
  const [mine] = lockHolders(path);
  equal(mine.pid, Deno.pid);
  equal(mine.shared, true);
  equal(mine.command, "deno");
});

Deno.test("withLock() releases the lock when the callback throws", async () => {
  using dir = tempDir();
  const path = `${dir.path}/l`;
  await rejects(
    withLock(path, () => {
      throw new Error("boom");
    }),
    /boom/,
  );
  equal(await flockCli(["-n", path, "true"]), 0);
  equal(await withLock(path, () => 7), 7);
});

Deno.test("singleInstance() refuses a second instance with EBUSY naming the holder's pid", async () => {
  using dir = tempDir();
  const path = `${dir.path}/single.pid`;
  {
    using one = singleInstance(path);
    equal(one.stalePid, null);
    equal(Deno.readTextFileSync(path), `${Deno.pid}\n`);
    throws(() => singleInstance(path), isIpc("EBUSY", Deno.errors.Busy));
    try {
      singleInstance(path);
    } catch (e) {
      ok((e as Error).message.includes(`pid ${Deno.pid}`));
    }
  }
  equal(Deno.readTextFileSync(path), "", "release clears the pid");
  await using _h = await holdWithFlock(path);
  throws(() => singleInstance(path), isIpc("EBUSY"));
});

Deno.test("singleInstance() reports the pid a crashed previous run left behind", () => {
  using dir = tempDir();
  const path = `${dir.path}/stale.pid`;
  Deno.writeTextFileSync(path, "4194000\n");
  using inst = singleInstance(path);
  equal(inst.stalePid, 4194000);
  equal(Deno.readTextFileSync(path), `${Deno.pid}\n`);
});

Deno.test("openLockFile() refuses a directory (EISDIR) and a FIFO (EINVAL) without blocking", async () => {
  using dir = tempDir();
  throws(() => openLockFile(dir.path, { create: true }), isIpc("EISDIR", Deno.errors.IsADirectory));
  throws(() => openLockFile(dir.path, { create: true, readOnly: true }), isIpc("EISDIR"));
  const fifo = `${dir.path}/fifo`;
  await new Deno.Command("mkfifo", { args: [fifo] }).output();
  throws(() => openLockFile(fifo, { create: true, readOnly: true }), isIpc("EINVAL"));
  throws(
    () => openLockFile(`${dir.path}/missing`),
    isIpc("ENOENT", Deno.errors.NotFound),
  );
  throws(() => openLockFile("", { create: true }), isIpc("EINVAL"));
});

Deno.test("case 20: a closed LockFile throws BadResource and its locks are gone", async () => {
  using dir = tempDir();
  const path = `${dir.path}/closed`;
  const f = openLockFile(path, { create: true });
  const l = f.tryLock()!;
  f.close();
  f.close();
  equal(l.held, false);
  l.release(); // no-op, never touches the old descriptor number
  throws(() => f.tryLock(), isIpc("EBADF", Deno.errors.BadResource));
  await rejects(f.lock(), isIpc("EBADF"));
  throws(() => f.test({ start: 0, length: 1 }), isIpc("EBADF"));
  equal(await flockCli(["-n", path, "true"]), 0);
});

Deno.test("case 35: bad lock kinds, negative starts and lengths, bad timeouts are EINVAL before any syscall", async () => {
  using dir = tempDir();
  using f = openLockFile(`${dir.path}/ranges`, { create: true });
  throws(() => f.tryLock({ start: -1, length: 1 }), isIpc("EINVAL"));
  throws(() => f.tryLock({ start: 0, length: -5 }), isIpc("EINVAL"));
  throws(() => f.tryLock({ start: 1.5 }), isIpc("EINVAL"));
  throws(() => f.tryLock({ start: 2 ** 60 }), isIpc("EINVAL"));
  throws(
    () => f.tryLock({ start: Number.MAX_SAFE_INTEGER, length: 2 }),
    isIpc("EOVERFLOW"),
  );
  throws(() => f.tryLock({ kind: "flock", start: 0, length: 1 }), isIpc("EINVAL"));
  throws(() => f.tryLock({ kind: "bogus" as "ofd" }), isIpc("EINVAL"));
  throws(() => f.test({ kind: "flock" }), isIpc("EINVAL"));
  await rejects(f.lock({ timeout: -1 }), isIpc("EINVAL"));
  await rejects(lockFile(`${dir.path}/x`, { timeout: NaN }), isIpc("EINVAL"));
});

Deno.test("case 35: an exclusive record lock on a read-only LockFile fails with EBADF; flock works", () => {
  using dir = tempDir();
  const path = `${dir.path}/ro`;
  Deno.writeTextFileSync(path, "");
  using f = openLockFile(path, { create: true, readOnly: true });
  throws(() => f.tryLock({ start: 0, length: 1 }), isIpc("EBADF"));
  using shared = f.tryLock({ start: 0, length: 1, shared: true });
  ok(shared);
  using whole = f.tryLock();
  ok(whole);
  throws(() => f.tryLock(), isIpc("EINVAL"), "a second flock on one handle would convert");
});

Deno.test("readAt()/writeAt() update records in place", () => {
  using dir = tempDir();
  using f = openLockFile(`${dir.path}/rec`, { create: true });
  f.writeAt(new TextEncoder().encode("abcd"), 8);
  const buf = new Uint8Array(4);
  equal(f.readAt(buf, 8), 4);
  equal(new TextDecoder().decode(buf), "abcd");
  equal(f.readAt(buf, 100), 0);
  throws(() => f.readAt(buf, -1), isIpc("EINVAL"));
});

Deno.test("locking and unlocking leaves no descriptor behind", async () => {
  using dir = tempDir();
  const fds = fdsUnder(dir.path);
  ok(fds === 0);
  for (let i = 0; i < 20; i++) {
    using _l = await lockFile(`${dir.path}/leak`);
    using _t = tryLockFile(`${dir.path}/leak2`, { start: 0, length: 4 });
  }
  equal(fdsUnder(dir.path), 0);
});

Deno.test(
  asNobodyTest(
    "lockFile() falls back to read-only for flock on a file it may not write (run as nobody)",
  ),
  async () => {
    using dir = tempDir();
    Deno.chmodSync(dir.path, 0o755);
    const path = `${dir.path}/shared.lock`;
    Deno.writeTextFileSync(path, "");
    Deno.chmodSync(path, 0o644); // root-owned, like a lock file flock(1) left behind
    const script = `import { lockFile, IpcError } from "@mod";
    { using l = await lockFile("${path}"); console.log("flock", l.held); }
    try { await lockFile("${path}", { start: 0, length: 1 }); } catch (e) { console.log((e as IpcError).code); }`;
    const out = await evalAsNobody(script);
    const text = new TextDecoder().decode(out.stdout);
    equal(text, "flock true\nEACCES\n", new TextDecoder().decode(out.stderr));
  },
);

Deno.test("case 38: 40 concurrent lock waits take no pool thread: file I/O stays fast, all get the lock", async () => {
  using dir = tempDir();
  const path = `${dir.path}/many`;
  const holder = tryLockFile(path)!;
  const order: number[] = [];
  const waits = Array.from(
    { length: 40 },
    (_, i) =>
      lockFile(path, { timeout: 20000 }).then((l) => {
        order.push(i);
        l.release();
      }),
  );
  const t0 = performance.now();
  await Deno.readTextFile(path);
  ok(performance.now() - t0 < 100, "Deno's own I/O must not wait behind lock waits");
  holder.release();
  await Promise.all(waits);
  equal(order.length, 40);
});

Deno.test("a second flock lock() on one LockFile is refused, also while the first waits", async () => {
  using dir = tempDir();
  const path = `${dir.path}/twice`;
  const holder = tryLockFile(path)!;
  using f = openLockFile(path, { create: true });
  const first = f.lock({ timeout: 5000 });
  await rejects(f.lock({ timeout: 100 }), isIpc("EINVAL"));
  holder.release();
  using l = await first;
  ok(l.held);
  l.release();
  using again = await f.lock({ timeout: 100 });
  ok(again.held, "after release the handle can lock again");
});

Deno.test("openLockFile() refuses a file others may write unless trust: 'any' (EPERM)", async () => {
  using dir = tempDir();
  const path = `${dir.path}/planted`;
  Deno.writeTextFileSync(path, "");
  Deno.chmodSync(path, 0o666);
  throws(() => openLockFile(path), isIpc("EPERM", Deno.errors.PermissionDenied));
  await rejects(() => lockFile(path), isIpc("EPERM"));
  throws(() => singleInstance(path), isIpc("EPERM"));
  throws(() => openLockFile(path, { trust: "bogus" as "any" }), isIpc("EINVAL"));
  using f = openLockFile(path, { trust: "any" });
  using lock = f.tryLock();
  ok(lock?.held);
  using own = openLockFile(`${dir.path}/made`, { create: { mode: 0o660 } });
  equal(Deno.statSync(own.path).mode! & 0o777, 0o660, "a file this call creates is trusted");
});
