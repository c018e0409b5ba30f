import { equal, ok, rejects, throws } from "node:assert/strict";
import {
  createSemaphore,
  createSharedMemory,
  IpcError,
  openSemaphore,
  removeSemaphore,
  removeSharedMemory,
  Semaphore,
  semaphoreInRegion,
  withSemaphore,
} from "../mod.ts";
import { asNobodyTest, spawnReady, tempDir, uniqueName } from "./_helpers.ts";
import { cPeer, runChild } from "./_posix_helpers.ts";

function code(e: unknown): string {
  ok(e instanceof IpcError, `not an IpcError: ${e}`);
  return (e as IpcError).code;
}

function tempSem(value = 0) {
  const name = "/" + uniqueName("sem");
  const sem = createSemaphore(name, { value });
  return {
    sem,
    name,
    [Symbol.dispose]() {
      sem.close();
      try {
        removeSemaphore(name);
      } catch { /* removed */ }
    },
  };
}

Deno.test("case 01 and 19: openSemaphore() rejects bad names, values (2^31) and modes before any syscall", () => {
  for (const bad of ["x", "/", "/a/b", "/.", "/..", "/x\0"]) {
    throws(() => openSemaphore(bad, { create: {} }), (e) => code(e) === "EINVAL", bad);
  }
  const name = "/" + uniqueName("sem");
  throws(() => openSemaphore(name, { create: { value: 2 ** 31 } }), (e) => code(e) === "EINVAL");
  throws(() => openSemaphore(name, { create: { value: -1 } }), (e) => code(e) === "EINVAL");
  throws(() => openSemaphore(name, { create: { mode: 0o10000 } }), (e) => code(e) === "EINVAL");
  throws(() => openSemaphore(name), (e) => e instanceof Deno.errors.NotFound);
});

Deno.test("case 03 and 07: openSemaphore() exclusive create fails with EEXIST; mode is 0600 or exactly as asked", () => {
  {
    using t = tempSem(3);
    equal(Deno.statSync(`/dev/shm/sem.${t.name.slice(1)}`).mode! & 0o777, 0o600);
    throws(
      () => createSemaphore(t.name),
      (e) => e instanceof Deno.errors.AlreadyExists,
    );
    using again = openSemaphore(t.name, { create: { value: 9 } });
    equal(again.value(), 3, "the existing semaphore is untouched");
    const wide = "/" + uniqueName("sem");
    using w = openSemaphore(wide, { create: { mode: 0o666 } });
    try {
      equal(Deno.statSync(`/dev/shm/sem.${wide.slice(1)}`).mode! & 0o777, 0o666);
    } finally {
      w.remove();
    }
  }
});

Deno.test("Semaphore post/tryWait/value, and wait() times out without blocking the loop", async () => {
  using t = tempSem(1);
  ok(t.sem.tryWait());
  equal(t.sem.tryWait(), null);
  equal(t.sem.value(), 0);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const start = performance.now();
  await rejects(t.sem.wait({ timeout: 150 }), (e) => code(e) === "ETIMEDOUT");
  clearInterval(timer);
  const took = performance.now() - start;
  ok(took >= 145 && took < 500, `took ${took}`);
  ok(ticks >= 5, `${ticks} ticks`);
  setTimeout(() => t.sem.post(), 50);
  await t.sem.wait({ timeout: 2000 });
  equal(t.sem.value(), 0);
});

Deno.test("Semaphore.wait() abort gives back a unit acquired late", async () => {
  using t = tempSem(0);
  const ac = new AbortController();
  const p = t.sem.wait({ signal: ac.signal });
  setTimeout(() => ac.abort(new Error("stop")), 30);
  await rejects(p, /stop/);
  t.sem.post();
  await new Promise((r) => setTimeout(r, 400)); // let any parked slice finish
  equal(t.sem.value(), 1, "the post is not lost to the abandoned wait");
});

Deno.test("case 19: Semaphore.post() at SEM_VALUE_MAX is EOVERFLOW naming the limit", () => {
  using t = tempSem(2147483647);
  throws(
    () => t.sem.post(),
    (e) => code(e) === "EOVERFLOW" && (e as IpcError).limit === "SEM_VALUE_MAX",
  );
});

Deno.test("case 20: Semaphore after close throws BadResource, also for a pending wait", async () => {
  const t = tempSem(0);
  const p = t.sem.wait();
  t.sem.close();
  await rejects(p, (e) => e instanceof Deno.errors.BadResource);
  throws(() => t.sem.post(), (e) => code(e) === "EBADF");
  throws(() => t.sem.tryWait(), (e) => code(e) === "EBADF");
  throws(() => t.sem.value(), (e) => code(e) === "EBADF");
  t.sem.close();
  t[Symbol.dispose]();
});

Deno.test("Semaphore interoperates with a C peer", async () => {
  using t = tempSem(0);
  const peer = await cPeer();
  await using child = await spawnReady(peer, ["sem-wait", t.name]);
  t.sem.post();
  equal(await child.nextLine(), "acquired");
  const out = await new Deno.Command(peer, { args: ["sem-post", t.name] }).output();
  equal(out.code, 0);
  await t.sem.wait({ timeout: 2000 });
});

Deno.test(
  asNobodyTest("case 05: openSemaphore() and unlink as another user fail with EACCES"),
  async () => {
    using t = tempSem(0);
    const open = await runChild(["sem-open", t.name], { asNobody: true });
    equal(open.code, "EACCES");
    ok(open.permissionDenied);
    const rm = await runChild(["sem-unlink", t.name], { asNobody: true });
    equal(rm.code, "EACCES");
    equal(t.sem.value(), 0);
  },
);

Deno.test("withSemaphore() excludes other processes from the critical section", async () => {
  const name = "/" + uniqueName("sem");
  using dir = tempDir();
  const log = `${dir.path}/log`;
  try {
    await withSemaphore(name, () => {}, { timeout: 1000 });
    const results = await Promise.all([1, 2, 3].map(() => runChild(["sem-hold", name, log])));
    for (const r of results) equal(r.ok, true, JSON.stringify(r));
    const lines = Deno.readTextFileSync(log).trim().split("\n");
    equal(lines.length, 30);
    for (let i = 0; i < lines.length; i += 2) {
      const [pid, what] = lines[i].split(" ");
      equal(what, "in");
      equal(lines[i + 1], `${pid} out`, "no other process entered in between");
    }
    await rejects(
      withSemaphore(name, () => {
        throw new Error("boom");
      }),
      /boom/,
    );
    using sem = openSemaphore(name);
    equal(sem.value(), 1, "posted back after the throw");
  } finally {
    removeSemaphore(name);
  }
});

Deno.test("semaphoreInRegion() is shared with a C peer through shared memory", async () => {
  const name = "/" + uniqueName("shm");
  try {
    using shm = createSharedMemory(name, { size: 4096 });
    throws(() => semaphoreInRegion(shm, 4), (e) => code(e) === "EINVAL");
    throws(() => semaphoreInRegion(shm, 4096), (e) => code(e) === "EINVAL");
    using sem = semaphoreInRegion(shm, 64, { initialize: true, value: 0 });
    const peer = await cPeer();
    const child = new Deno.Command(peer, { args: ["shm-sem", name, "64"] }).spawn();
    for (let i = 0; i < 3; i++) await sem.wait({ timeout: 3000 });
    equal((await child.status).code, 0);
    equal(sem.value(), 0);
  } finally {
    removeSharedMemory(name);
  }
});

Deno.test("semaphoreInRegion() keeps the region mapped until the semaphore closes", async () => {
  const name = "/" + uniqueName("shm");
  try {
    const shm = createSharedMemory(name, { size: 4096 });
    const sem = semaphoreInRegion(shm, 0, { initialize: true, value: 1 });
    const view = shm.bytes;
    shm.close();
    equal(view.length, 0, "views detach at once");
    ok(sem.tryWait(), "the semaphore still works");
    const p = sem.wait();
    sem.close();
    await rejects(p, (e) => e instanceof Deno.errors.BadResource);
  } finally {
    removeSharedMemory(name);
  }
});

Deno.test("Semaphore cannot be constructed around an arbitrary pointer", () => {
  const Ctor = Semaphore as unknown as new (...args: unknown[]) => unknown;
  throws(
    () => new Ctor(Deno.UnsafePointer.create(8n), "x", true, () => {}),
    (e) => code(e) === "EINVAL",
  );
});

Deno.test("openSemaphore() with create opens an existing semaphore as it is", () => {
  using t = tempSem(2);
  using same = openSemaphore(t.name, { create: { value: 7 } });
  equal(same.value(), 2);
  equal(same.tryWait(), true);
  equal(t.sem.value(), 1);
});
