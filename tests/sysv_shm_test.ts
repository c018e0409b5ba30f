import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  createSysvSharedMemory,
  IpcError,
  openSysvSharedMemory,
  SysvSharedMemory,
} from "../mod.ts";
import { ipcmk, liveIds, runPeer, sysvTest } from "./_sysv.ts";
import { asNobodyTest, evalAsNobody } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function code(c: string) {
  return (e: unknown) => e instanceof IpcError && e.code === c;
}

Deno.test(
  "createSysvSharedMemory() makes a zeroed private 0600 segment of the size asked",
  sysvTest((t) => {
    using shm = createSysvSharedMemory({ size: 10000, removeOnClose: true });
    t.add("shm", shm.id);
    const st = shm.stat();
    equal(st.size, 10000);
    equal(st.perm.mode, 0o600);
    equal(st.creatorPid, Deno.pid);
    equal(st.attached, 0);
    using mem = shm.attach();
    equal(mem.buffer.byteLength, 10000);
    ok(mem.bytes.every((b) => b === 0));
    equal(shm.stat().attached, 1);
  }),
);

Deno.test(
  "SysvSharedMemory is shared with a C process both ways",
  sysvTest(async (t) => {
    using shm = createSysvSharedMemory({ size: 64, removeOnClose: true });
    t.add("shm", shm.id);
    using mem = shm.attach();
    mem.write(enc.encode("from deno"), 8);
    equal((await runPeer(["shm-read", String(shm.id), "8", "9"])).out, "from deno");
    equal((await runPeer(["shm-write", String(shm.id), "20", "from C"])).code, 0);
    equal(dec.decode(mem.read(20, 6)), "from C");
    equal((await runPeer(["shm-stat", String(shm.id)])).out, `64 1 ${Deno.pid} 600`);
  }),
);

Deno.test(
  "SysvShmAttachment.detach() empties the buffer and views: no crash, EBADF after",
  sysvTest((t) => {
    using shm = createSysvSharedMemory({ size: 4096, removeOnClose: true });
    t.add("shm", shm.id);
    const mem = shm.attach();
    const view = new Int32Array(mem.buffer);
    view[3] = 7;
    mem.detach();
    mem.detach();
    equal(view.length, 0);
    equal(view[3], undefined);
    ok(mem.detached);
    throws(() => mem.buffer, code("EBADF"));
    throws(() => mem.read(), code("EBADF"));
    equal(shm.stat().attached, 0);
  }),
);

Deno.test(
  "SysvSharedMemory.close() detaches its attachments",
  sysvTest((t) => {
    const shm = createSysvSharedMemory({ size: 100, removeOnClose: true });
    t.add("shm", shm.id);
    const a = shm.attach();
    const b = shm.attach({ readOnly: true });
    shm.close();
    ok(a.detached && b.detached);
    ok(!liveIds("shm").has(shm.id));
    throws(() => shm.attach(), code("EBADF"));
  }),
);

Deno.test(
  "a read-only attachment offers copies only, never a writable buffer",
  sysvTest((t) => {
    using shm = createSysvSharedMemory({ size: 16, removeOnClose: true });
    t.add("shm", shm.id);
    using rw = shm.attach();
    rw.write(enc.encode("abc"));
    using ro = shm.attach({ readOnly: true });
    equal(dec.decode(ro.read(0, 3)), "abc");
    const copy = ro.read();
    copy[0] = 0;
    equal(dec.decode(ro.read(0, 1)), "a", "read() returns a copy");
    throws(() => ro.buffer, (e) => e instanceof Deno.errors.PermissionDenied);
    throws(() => ro.write(enc.encode("x")), code("EACCES"));
  }),
);

Deno.test(
  "SysvShmAttachment rejects ranges outside the segment",
  sysvTest((t) => {
    using shm = createSysvSharedMemory({ size: 16, removeOnClose: true });
    t.add("shm", shm.id);
    using mem = shm.attach();
    throws(() => mem.read(10, 7), code("EINVAL"));
    throws(() => mem.read(-1), code("EINVAL"));
    throws(() => mem.write(new Uint8Array(17)), code("EINVAL"));
    throws(() => mem.write(new Uint8Array(2), 15), code("EINVAL"));
    mem.write(new Uint8Array(1), 15);
  }),
);

Deno.test(
  "createSysvSharedMemory() rejects bad sizes and keys before the syscall",
  () => {
    throws(() => createSysvSharedMemory({ size: 0 }), code("EINVAL"));
    throws(() => createSysvSharedMemory({ size: -5 }), code("EINVAL"));
    throws(() => createSysvSharedMemory({ size: 1.5 }), code("EINVAL"));
    throws(() => createSysvSharedMemory({} as never), code("EINVAL"));
    throws(() => createSysvSharedMemory({ size: 8, key: -(2 ** 32) }), code("EINVAL"));
  },
);

Deno.test(
  "SysvSharedMemory.remove() with an attachment marks it SHM_DEST; it goes at the last detach",
  sysvTest((t) => {
    const shm = createSysvSharedMemory({ size: 32 });
    t.add("shm", shm.id);
    using other = openSysvSharedMemory({ id: shm.id });
    const mem = other.attach();
    shm.remove();
    ok(other.stat().removed);
    ok(liveIds("shm").has(shm.id));
    mem.detach();
    ok(!liveIds("shm").has(shm.id));
  }),
);

Deno.test(
  "openSysvSharedMemory() reads the size of an ipcmk segment and checks trust",
  sysvTest(async (t) => {
    const id = t.add("shm", await ipcmk(["-M", "300", "-p", "0600"]));
    using shm = openSysvSharedMemory({ id, removeOnClose: true });
    equal(shm.size, 300);
    using byKey = openSysvSharedMemory({ key: shm.key });
    equal(byKey.id, id);
    const open = t.add("shm", await ipcmk(["-M", "10", "-p", "0622"]));
    throws(() => openSysvSharedMemory({ id: open }), code("EPERM"));
    using any = openSysvSharedMemory({ id: open, trust: "any", removeOnClose: true });
    deepEqual(any.attach({ readOnly: true }).read(), new Uint8Array(10));
  }),
);

Deno.test(
  "SysvSharedMemory.set() changes the mode (IPC_SET)",
  sysvTest((t) => {
    using shm = createSysvSharedMemory({ size: 8, removeOnClose: true });
    t.add("shm", shm.id);
    shm.set({ mode: 0o640 });
    equal(shm.stat().perm.mode, 0o640);
  }),
);

Deno.test(
  asNobodyTest("another user can attach a 0644 segment read-only but gets EACCES writable"),
  sysvTest(async (t) => {
    using shm = createSysvSharedMemory({ size: 16, mode: 0o644, removeOnClose: true });
    t.add("shm", shm.id);
    shm.attach().write(enc.encode("public"));
    const script = `import { openSysvSharedMemory } from "@mod";
const shm = openSysvSharedMemory({ id: ${shm.id}, trust: "any" });
try { shm.attach(); console.log("rw attached"); } catch (e) { console.log(e.code); }
console.log(new TextDecoder().decode(shm.attach({ readOnly: true }).read(0, 6)));
shm.close();`;
    const out = await evalAsNobody(script);
    equal(dec.decode(out.stdout), "EACCES\npublic\n");
    equal(shm.stat().attached, 1, "only this process's attachment remains");
  }),
);

Deno.test(
  "a transferred attachment buffer still detaches: nattch drops to 0",
  sysvTest((t) => {
    using shm = createSysvSharedMemory({ size: 4096, removeOnClose: true });
    t.add("shm", shm.id);
    const mem = shm.attach();
    new Uint8Array(mem.buffer)[0] = 7;
    const stolen = mem.buffer.transfer(); // the caller takes the buffer away
    equal(new Uint8Array(stolen)[0], 7);
    equal(shm.stat().attached, 1);
    mem.detach();
    equal(shm.stat().attached, 0, "the segment was released");
    equal(new Uint8Array(stolen)[0], 0, "the stray buffer now sees private zero pages");
    throws(() => mem.buffer, code("EBADF"));
  }),
);

Deno.test(
  "new SysvSharedMemory(id) takes its size from IPC_STAT and checks trust",
  sysvTest((t) => {
    using shm = createSysvSharedMemory({ size: 123, removeOnClose: true });
    t.add("shm", shm.id);
    using same = new SysvSharedMemory(shm.id);
    equal(same.size, 123);
    using mem = same.attach();
    equal(mem.buffer.byteLength, 123);
    throws(() => new SysvSharedMemory(0x7ffffff0), code("ENOENT"));
    throws(() => new SysvSharedMemory(-1), code("EINVAL"));
    shm.set({ mode: 0o666 });
    throws(() => new SysvSharedMemory(shm.id), code("EPERM"));
    new SysvSharedMemory(shm.id, { trust: "any" }).close();
  }),
);

Deno.test(
  "openSysvSharedMemory({ key, create }) creates once, then opens the same segment",
  sysvTest((t) => {
    const key = 0x1c000000 + (Deno.pid & 0xffffff);
    using a = openSysvSharedMemory({ key, create: { size: 64 }, removeOnClose: true });
    t.add("shm", a.id);
    using b = openSysvSharedMemory({ key, create: { size: 64 } });
    equal(b.id, a.id);
    equal(b.size, 64);
    throws(() => openSysvSharedMemory({ id: a.id, create: { size: 1 } } as never), code("EINVAL"));
  }),
);
