import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  createSysvSemaphoreSet,
  IpcError,
  openSysvSemaphoreSet,
  SEMVMX,
  sysvLimits,
} from "../mod.ts";
import { MAX_PARKED } from "../lib/wait.ts";
import { spawnReady } from "./_helpers.ts";
import { cPeer, ipcmk, runPeer, sysvTest } from "./_sysv.ts";

function code(c: string) {
  return (e: unknown) => e instanceof IpcError && e.code === c;
}

Deno.test(
  "createSysvSemaphoreSet() sets initial values and stamps sem_otime",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ values: [1, 0, 7], removeOnClose: true });
    t.add("sem", s.id);
    equal(s.count, 3);
    deepEqual(s.values(), [1, 0, 7]);
    const st = s.stat();
    equal(st.count, 3);
    equal(st.perm.mode, 0o600);
    ok(st.opTime !== null, "initialised sets have an op time");
    equal((await runPeer(["sem-stat", String(s.id)])).out, "3 600 1 1 0 7");
  }),
);

Deno.test(
  "SysvSemaphoreSet.op() applies several operations atomically or not at all",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ values: [1, 0], removeOnClose: true });
    t.add("sem", s.id);
    equal(s.tryOp([{ index: 1, delta: 1 }, { index: 0, delta: -2 }]), null);
    deepEqual(s.values(), [1, 0], "nothing applied");
    await s.op([{ index: 0, delta: -1 }, { index: 1, delta: 2 }], { timeout: 100 });
    deepEqual(s.values(), [0, 2]);
    await s.op([{ index: 0, delta: 0 }], { timeout: 100 }); // wait-for-zero, already zero
  }),
);

Deno.test(
  "SysvSemaphoreSet.wait() waits for a release from a C process",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ values: [0], removeOnClose: true });
    t.add("sem", s.id);
    const waiting = s.wait(0, { timeout: 3000 });
    const posted = new Promise((r) => setTimeout(r, 50)).then(() =>
      runPeer(["sem-post", String(s.id), "0"])
    );
    const t0 = performance.now();
    await waiting;
    ok(performance.now() - t0 < 1000);
    equal((await posted).code, 0);
    equal(s.value(0), 0);
    s.post(0);
    equal(s.value(0), 1);
  }),
);

Deno.test(
  "case 14: SysvSemaphoreSet.wait() times out with ETIMEDOUT (tryWait: null) and leaves the value alone",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ values: [0], removeOnClose: true });
    t.add("sem", s.id);
    const t0 = performance.now();
    await rejects(s.wait(0, { timeout: 120 }), (e) => e instanceof Deno.errors.TimedOut);
    const took = performance.now() - t0;
    ok(took >= 115 && took < 500, `took ${took} ms`);
    equal(s.value(0), 0);
    // Would-block is a distinct answer: null from the try form, not an error.
    equal(s.tryWait(0), null);
    equal(s.tryOp([{ index: 0, delta: -1 }]), null);
  }),
);

Deno.test(
  "SysvSemaphoreSet.wait() aborted while parked gives back a late acquisition",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ values: [0], removeOnClose: true });
    t.add("sem", s.id);
    const ac = new AbortController();
    const waiting = rejects(s.wait(0, { signal: ac.signal }), { name: "AbortError" });
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await waiting;
    // The pool slice may still be parked in semtimedop; post now so it acquires.
    s.post(0, { undo: false });
    await new Promise((r) => setTimeout(r, 300)); // > one slice
    equal(s.value(0), 1, "the value posted is still there");
    equal(s.increaseWaiters(0), 0);
  }),
);

Deno.test(
  "case 16: SysvSemaphoreSet.op() fails with EIDRM promptly when the set is removed while waiting",
  sysvTest(async (t) => {
    const s = createSysvSemaphoreSet({ values: [0] });
    t.add("sem", s.id);
    try {
      const waiting = rejects(s.wait(0, { timeout: 5000 }), code("EIDRM"));
      await new Promise((r) => setTimeout(r, 30));
      const t0 = performance.now();
      await new Deno.Command("ipcrm", { args: ["-s", String(s.id)] }).output();
      await waiting;
      ok(performance.now() - t0 < 500, "within about one slice");
    } finally {
      s.close();
    }
  }),
);

Deno.test(
  "case 18: SysvSemaphoreSet with SEM_UNDO gets the value back when a C holder is killed",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ values: [1], removeOnClose: true });
    t.add("sem", s.id);
    const holder = await spawnReady(await cPeer(), ["sem-hold", String(s.id), "0"], {
      ready: "held",
    });
    equal(s.value(0), 0);
    equal(s.tryWait(0), null);
    await holder[Symbol.asyncDispose](); // SIGKILL
    await s.wait(0, { timeout: 2000 });
    s.post(0);
  }),
);

Deno.test(
  "SysvSemaphoreSet with SEM_UNDO gets the value back when a Deno holder is killed",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ values: [1], removeOnClose: true });
    t.add("sem", s.id);
    const script = `import { openSysvSemaphoreSet } from "${
      new URL("../mod.ts", import.meta.url).href
    }";
const s = openSysvSemaphoreSet({ id: ${s.id} });
await s.wait(0);
console.log("held");
setInterval(() => {}, 1000);`;
    await using holder = await spawnReady(Deno.execPath(), ["eval", "--no-check", script], {
      ready: "held",
    });
    equal(s.value(0), 0);
    holder.process.kill("SIGKILL");
    await holder.process.status;
    await s.wait(0, { timeout: 2000 });
    s.post(0);
  }),
);

Deno.test(
  "SysvSemaphoreSet control commands GETVAL/SETVAL/GETALL/SETALL/GETPID/GETNCNT/GETZCNT",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ count: 2, removeOnClose: true });
    t.add("sem", s.id);
    s.setValue(1, 5);
    equal(s.value(1), 5);
    s.setValues([3, 4]);
    deepEqual(s.values(), [3, 4]);
    s.tryOp([{ index: 1, delta: -1 }]);
    equal(s.lastPid(1), Deno.pid);
    const waitZero = s.op([{ index: 0, delta: 0 }], { timeout: 5000 }).catch((e) => e);
    const waitMore = s.op([{ index: 1, delta: -10 }], { timeout: 5000 }).catch((e) => e);
    // The waiters are counted while their pool slice sits in semtimedop.
    const until = performance.now() + 3000;
    while ((s.zeroWaiters(0) !== 1 || s.increaseWaiters(1) !== 1) && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 5));
    }
    equal(s.zeroWaiters(0), 1);
    equal(s.increaseWaiters(1), 1);
    s.setValue(0, 0);
    equal(await waitZero, undefined);
    s.setValue(1, 10);
    equal(await waitMore, undefined);
  }),
);

Deno.test(
  "case 15: SysvSemaphoreSet rejects nsems 0/SEMMSL+1, nsops 0/SEMOPM+1, a bad index and values over SEMVMX",
  sysvTest((t) => {
    using s = createSysvSemaphoreSet({ count: 2, removeOnClose: true });
    t.add("sem", s.id);
    const { semmsl, semopm } = sysvLimits();
    throws(() => s.value(2), code("EINVAL"));
    throws(() => s.tryOp([{ index: 5, delta: 1 }]), code("EINVAL"));
    throws(() => s.tryOp([]), code("EINVAL"));
    throws(
      () => s.tryOp(Array.from({ length: semopm + 1 }, () => ({ index: 0, delta: 0 }))),
      code("E2BIG"),
    );
    throws(() => s.setValue(0, SEMVMX + 1), code("ERANGE"));
    throws(() => s.setValue(0, -1), code("ERANGE"));
    throws(() => s.tryOp([{ index: 0, delta: SEMVMX + 1 }]), code("ERANGE"));
    throws(() => s.setValues([1]), code("EINVAL"));
    s.setValue(0, SEMVMX);
    throws(() => s.tryOp([{ index: 0, delta: 1 }]), code("ERANGE")); // from the kernel
    throws(() => createSysvSemaphoreSet({ count: 0 }), code("EINVAL"));
    throws(() => createSysvSemaphoreSet({ count: semmsl + 1 }), code("EINVAL"));
    throws(() => createSysvSemaphoreSet({ values: [SEMVMX + 1] }), code("ERANGE"));
    throws(() => createSysvSemaphoreSet({ count: 2, values: [1] }), code("EINVAL"));
  }),
);

Deno.test(
  "SEMVMX matches the kernel: 32767 can be set and one more is ERANGE from semop",
  sysvTest((t) => {
    using s = createSysvSemaphoreSet({ removeOnClose: true });
    t.add("sem", s.id);
    s.setValue(0, SEMVMX);
    equal(s.value(0), SEMVMX);
    // bypass the TS check: the kernel agrees that SEMVMX is the limit
    throws(() => s.tryOp([{ index: 0, delta: 1 }]), code("ERANGE"));
  }),
);

Deno.test(
  "SysvSemaphoreSet after close() throws EBADF",
  sysvTest(async (t) => {
    const s = createSysvSemaphoreSet({ removeOnClose: true });
    t.add("sem", s.id);
    s.close();
    s.close();
    throws(() => s.value(0), code("EBADF"));
    throws(() => s.tryWait(), code("EBADF"));
    await rejects(s.wait(), code("EBADF"));
  }),
);

Deno.test(
  "openSysvSemaphoreSet() opens an ipcmk set by key and reads its size",
  sysvTest(async (t) => {
    const id = t.add("sem", await ipcmk(["-S", "4", "-p", "0600"]));
    using s = openSysvSemaphoreSet({ id, removeOnClose: true });
    equal(s.count, 4);
    equal(s.stat().opTime, null, "ipcmk sets are never operated on");
    using byKey = openSysvSemaphoreSet({ key: s.key });
    equal(byKey.id, id);
  }),
);

Deno.test(
  "SysvSemaphoreSet: 40 concurrent waits do not starve Deno's own I/O",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ values: [0], removeOnClose: true });
    t.add("sem", s.id);
    const waits = Array.from({ length: 40 }, () => s.wait(0, { timeout: 5000, undo: false }));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await Deno.readTextFile("/proc/self/status");
    ok(performance.now() - t0 < 200, "readTextFile stayed fast (a starved pool takes seconds)");
    ok(MAX_PARKED <= 4);
    s.post(0, { count: 40, undo: false });
    await Promise.all(waits);
    equal(s.value(0), 0);
  }),
);
