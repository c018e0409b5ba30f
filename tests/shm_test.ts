import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  createMemfd,
  createPipe,
  createSharedMemory,
  IpcError,
  openSharedMemory,
  openSharedMemoryFd,
  removeSharedMemory,
  semaphoreInRegion,
  SharedMemory,
  withInheritedFds,
} from "../mod.ts";
import { asNobodyTest, uniqueName } from "./_helpers.ts";
import { cPeer, runChild } from "./_posix_helpers.ts";

function code(e: unknown): string {
  ok(e instanceof IpcError, `not an IpcError: ${e}`);
  return (e as IpcError).code;
}

function tempShm(size = 4096) {
  const name = "/" + uniqueName("shm");
  const shm = createSharedMemory(name, { size });
  return {
    shm,
    name,
    [Symbol.dispose]() {
      shm.close();
      try {
        removeSharedMemory(name);
      } catch { /* removed */ }
    },
  };
}

Deno.test("case 01: createSharedMemory() rejects bad names and sizes before any syscall", () => {
  for (const bad of ["x", "/", "/a/b", "/.", "/..", "/x\0"]) {
    throws(() => createSharedMemory(bad, { size: 1 }), (e) => code(e) === "EINVAL", bad);
  }
  const name = "/" + uniqueName("shm");
  for (const size of [0, -1, 1.5, NaN, undefined]) {
    throws(() => createSharedMemory(name, { size: size as number }), (e) => code(e) === "EINVAL");
  }
  throws(() => openSharedMemory(name), (e) => e instanceof Deno.errors.NotFound);
});

Deno.test("case 03 and 07: createSharedMemory() is exclusive; mode is 0600 or exactly as asked", () => {
  {
    using t = tempShm();
    equal(Deno.statSync(`/dev/shm${t.name}`).mode! & 0o777, 0o600);
    throws(
      () => createSharedMemory(t.name, { size: 1 }),
      (e) => e instanceof Deno.errors.AlreadyExists,
    );
    equal(t.shm.size, 4096, "untouched");
    const wide = "/" + uniqueName("shm");
    using w = createSharedMemory(wide, { size: 1, mode: 0o666 });
    try {
      equal(Deno.statSync(`/dev/shm${wide}`).mode! & 0o777, 0o666);
    } finally {
      w.remove();
    }
  }
});

Deno.test("SharedMemory views share bytes; read-only maps never write through", () => {
  using t = tempShm();
  using b = openSharedMemory(t.name);
  using r = openSharedMemory(t.name, { readOnly: true });
  t.shm.view.setUint32(8, 0xdeadbeef, true);
  equal(b.typed(Uint32Array, 8, 1)[0], 0xdeadbeef);
  equal(r.view.getUint32(8, true), 0xdeadbeef);
  r.bytes[0] = 99; // copy-on-write: must not reach the object, must not crash
  equal(t.shm.bytes[0], 0);
  throws(() => t.shm.typed(Uint32Array, 2), (e) => code(e) === "EINVAL");
  throws(() => t.shm.typed(Uint8Array, 0, 4097), (e) => code(e) === "EINVAL");
  t.shm.sync();
});

Deno.test("case 21: SharedMemory close and resize detach every view (no crash)", () => {
  using t = tempShm();
  const u8 = t.shm.bytes;
  const f64 = t.shm.typed(Float64Array);
  const dv = t.shm.view;
  t.shm.bytes[1] = 7;
  t.shm.resize(8192);
  equal(u8.length, 0);
  equal(f64.length, 0);
  equal(u8[0], undefined);
  throws(() => dv.getUint8(0));
  equal(t.shm.size, 8192);
  equal(t.shm.bytes[1], 7, "content kept");
  t.shm.resize(100);
  equal(t.shm.bytes.length, 100);
  const last = t.shm.bytes;
  t.shm.close();
  equal(last.length, 0);
  throws(() => t.shm.bytes, (e) => e instanceof Deno.errors.BadResource);
  throws(() => t.shm.resize(10), (e) => code(e) === "EBADF");
  t.shm.close();
});

Deno.test("SharedMemory interoperates with a C peer", async () => {
  using t = tempShm();
  t.shm.bytes.set(new TextEncoder().encode("hello"));
  const out = await new Deno.Command(await cPeer(), { args: ["shm-rw", t.name], stdout: "piped" })
    .output();
  equal(new TextDecoder().decode(out.stdout), "4096 hello\n");
  equal(new TextDecoder().decode(t.shm.bytes.subarray(100, 106)), "from C");
});

Deno.test("SharedMemory interoperates with Python multiprocessing.shared_memory", async () => {
  using t = tempShm(64);
  t.shm.bytes.set([1, 2, 3]);
  const py = `
import sys
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name=sys.argv[1])
resource_tracker.unregister(shm._name, "shared_memory")  # do not unlink it at exit
print(list(shm.buf[:3]))
shm.buf[10:13] = b"py!"
shm.close()
`;
  const out = await new Deno.Command("python3", {
    args: ["-c", py, t.name.slice(1)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  equal(new TextDecoder().decode(out.stdout).trim(), "[1, 2, 3]");
  equal(new TextDecoder().decode(t.shm.bytes.subarray(10, 13)), "py!");
  // And the other way: Python creates, ipckit opens.
  const name = uniqueName("py");
  const child = new Deno.Command("python3", {
    args: [
      "-c",
      `import sys,time
from multiprocessing import shared_memory
s = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=32)
s.buf[:4] = b"PYTH"
print("ready", flush=True)
sys.stdin.read()
s.close(); s.remove()`,
      name,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    equal((await reader.read()).value?.trim(), "ready");
    using mine = openSharedMemory(`/${name}`);
    equal(new TextDecoder().decode(mine.bytes.subarray(0, 4)), "PYTH");
    ok(mine.size >= 32);
  } finally {
    await child.stdin.close();
    await child.status;
    await reader.cancel();
  }
});

Deno.test("case 22: createMemfd() segments are inherited by a child; sealed size cannot change", async () => {
  using seg = createMemfd("ipckit-test", { size: 16, sealSize: true });
  seg.bytes.set(new TextEncoder().encode("memfd!"));
  const child = withInheritedFds([seg.handle], () =>
    new Deno.Command("python3", {
      args: [
        "-c",
        `import mmap,sys; m = mmap.mmap(int(sys.argv[1]), 16); print(m[:6].decode()); m[6:8] = b"ok"`,
        String(seg.handle.fd),
      ],
      stdout: "piped",
    }).spawn());
  const out = await child.output();
  equal(new TextDecoder().decode(out.stdout).trim(), "memfd!");
  equal(new TextDecoder().decode(seg.bytes.subarray(6, 8)), "ok");
  throws(() => seg.resize(32), (e) => code(e) === "EPERM");
  throws(() => seg.remove(), (e) => code(e) === "EINVAL");
  throws(() => createMemfd("x".repeat(250), { size: 1 }), (e) => code(e) === "EINVAL");
  throws(() => createMemfd("x", { size: 0 }), (e) => code(e) === "EINVAL");
});

Deno.test(
  asNobodyTest("case 05: openSharedMemory() and unlink as another user fail with EACCES"),
  async () => {
    using t = tempShm();
    const open = await runChild(["shm-open", t.name], { asNobody: true });
    equal(open.code, "EACCES");
    ok(open.permissionDenied);
    const rm = await runChild(["shm-unlink", t.name], { asNobody: true });
    equal(rm.code, "EACCES");
    deepEqual(Deno.statSync(`/dev/shm${t.name}`).size, 4096);
  },
);

Deno.test("case 06: openSharedMemory() refuses a group-writable object unless trusted", () => {
  using t = tempShm();
  Deno.chmodSync(`/dev/shm${t.name}`, 0o666);
  throws(() => openSharedMemory(t.name), (e) => code(e) === "EPERM");
  using ok2 = openSharedMemory(t.name, { trust: "any" });
  equal(ok2.size, 4096);
});

Deno.test("SharedMemory cannot be constructed around an arbitrary descriptor", () => {
  const Ctor = SharedMemory as unknown as new (...args: unknown[]) => unknown;
  throws(() => new Ctor(0, "x", 4096, false, false), (e) => code(e) === "EINVAL");
});

Deno.test("resize() refuses (EBUSY) a shrink under another live mapping or an in-region semaphore", () => {
  using t = tempShm(8192);
  const other = openSharedMemory(t.name);
  throws(() => t.shm.resize(4096), (e) => {
    equal(code(e), "EBUSY");
    ok((e as Error).message.includes("8192"), (e as Error).message);
    return true;
  });
  equal(t.shm.size, 8192);
  other.close();
  t.shm.resize(4096);
  equal(t.shm.bytes.length, 4096);
  const sem = semaphoreInRegion(t.shm, 4000, { initialize: true, value: 1 });
  throws(() => t.shm.resize(2048), (e) => code(e) === "EBUSY");
  t.shm.resize(8192); // growing is always fine, and the semaphore keeps working
  equal(sem.tryWait(), true);
  equal(sem.tryWait(), null);
  sem.close();
  t.shm.resize(2048);
  equal(t.shm.size, 2048);
});

Deno.test("openSharedMemoryFd() leaves the caller's descriptor open when it fails, owns it on success", () => {
  using pipe = createPipe();
  throws(() => openSharedMemoryFd(pipe.reader.fd), (e) => code(e) === "EINVAL");
  equal(pipe.reader.closeOnExec, true, "still open and still ours");
  throws(() => openSharedMemoryFd(-1), (e) => code(e) === "EINVAL");
  using seg = createMemfd("fd-owner", { size: 64 });
  seg.bytes[3] = 9;
  const copy = seg.handle.dup();
  using mapped = openSharedMemoryFd(copy.release());
  equal(mapped.size, 64);
  equal(mapped.bytes[3], 9);
});
