/**
 * Issue 11, shared memory and memfds: no call touches memory past a live
 * mapping or dies by a signal (SIGBUS, SIGXFSZ, OOM); transferred buffers;
 * sizes the host cannot hold; full tmpfs; received descriptors; planted
 * FIFOs. Scenarios that could kill the process run in a child. Research §9
 * cases are named `case NN: ...`.
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  createMemfd,
  createSemaphore,
  createSharedMemory,
  type IpcError,
  openSharedMemory,
  openSharedMemoryFd,
  removeSemaphore,
  removeSharedMemory,
  semaphoreInRegion,
  type SharedMemory,
} from "../mod.ts";
import { captureIo, main } from "../lib/cli/main.ts";
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { fdsTo, uniqueName } from "./_helpers.ts";
import { NOBODY, otherUserSupport, stageForNobody } from "../examples/_as_user.ts";
import {
  child,
  code,
  IPC_FLAGS,
  isCode,
  mapsMention,
  runChild,
  unshareSupport,
} from "./_posix_safety.ts";

Deno.test("close() after buffer.transfer() and structuredClone releases the memfd and its mapping", () => {
  for (const how of ["transfer", "structuredClone"] as const) {
    const name = uniqueName(how);
    const seg = createMemfd(name, { size: 8192 });
    seg.bytes[0] = 7;
    const fd = seg.handle.fd;
    const moved = how === "transfer"
      ? seg.buffer.transfer()
      : structuredClone(seg.buffer, { transfer: [seg.buffer] });
    equal(new Uint8Array(moved)[0], 7);
    equal(seg.bytes[0], 7, "a new buffer over the same mapping is made on demand");
    seg.close(); // must not throw a raw TypeError
    equal(seg.closed, true);
    deepEqual(fdsTo(new RegExp(`memfd:${name}`)), [], `descriptor ${fd} still open`);
    equal(mapsMention(`memfd:${name}`), false, "the object is still mapped");
    // The stray buffer now covers private zero pages: harmless to use.
    equal(new Uint8Array(moved)[0], 0);
    new Uint8Array(moved)[1] = 1;
  }
});

Deno.test("close() after the buffer was posted to a Worker releases the object", async () => {
  const name = uniqueName("worker");
  const seg = createMemfd(name, { size: 4096 });
  seg.bytes[0] = 42;
  const src = `self.onmessage = (e) => {
    const b = new Uint8Array(e.data);
    self.postMessage(b[0]);
    self.onmessage = () => self.postMessage(b[0]);
  };`;
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    const next = () => new Promise<number>((r) => worker.onmessage = (e) => r(e.data));
    let reply = next();
    worker.postMessage(seg.buffer, [seg.buffer]);
    equal(await reply, 42);
    seg.close();
    deepEqual(fdsTo(new RegExp(`memfd:${name}`)), []);
    equal(mapsMention(`memfd:${name}`), false);
    reply = next();
    worker.postMessage("again");
    equal(await reply, 0, "the worker's buffer now reads zero pages, not the object");
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("case 21: after close() and resize() every old view reads as detached", () => {
  using seg = createMemfd(uniqueName("views"), { size: 4096 });
  const bytes = seg.bytes;
  const typed = seg.typed(Uint32Array, 8, 4);
  seg.resize(8192);
  equal(bytes.length, 0);
  equal(bytes[0], undefined);
  equal(typed.length, 0);
  const after = seg.view;
  seg.close();
  equal(after.buffer.detached, true);
  throws(() => seg.bytes, isCode("EBADF"));
});

Deno.test("createMemfd() of 2^52 bytes is ENOMEM naming MemTotal, at once and without allocating", () => {
  const t0 = performance.now();
  const before = fdsTo(/memfd:/).length;
  throws(() => createMemfd("huge", { size: 2 ** 52 }), (e) => {
    equal(code(e), "ENOMEM");
    equal((e as IpcError).limit, "MemTotal");
    equal((e as IpcError).syscall, "memfd_create");
    return true;
  });
  ok(performance.now() - t0 < 1000, "took too long");
  equal(fdsTo(/memfd:/).length, before);
  const name = "/" + uniqueName("huge");
  throws(() => createSharedMemory(name, { size: 2 ** 52 }), isCode("ENOMEM", "shm_open"));
  throws(() => removeSharedMemory(name), isCode("ENOENT"), "nothing was created");
  using seg = createMemfd(uniqueName("grow"), { size: 4096 });
  throws(() => seg.resize(2 ** 52), isCode("ENOMEM"));
  equal(seg.size, 4096);
});

Deno.test("sizes over RLIMIT_FSIZE are EFBIG naming the limit, never a SIGXFSZ death", async () => {
  // The limit leaves room for Deno's own cache files; the sizes are refused
  // before anything is allocated, so asking for twice the limit costs nothing.
  const r = await runChild(
    ["fsize", "/" + uniqueName("fsize"), String(128 << 20)],
    ["prlimit", `--fsize=${64 << 20}`],
  );
  equal(r.signal, null, r.err);
  deepEqual(r.out, {
    create: "EFBIG RLIMIT_FSIZE",
    memfd: "EFBIG RLIMIT_FSIZE",
    grow: "EFBIG RLIMIT_FSIZE",
  });
});

Deno.test("case 23: a full tmpfs is ENOSPC on create, grow and writable open of a sparse object, never SIGBUS", async () => {
  const can = unshareSupport();
  if (!can.ok) return void console.log(`skipped: ${can.reason}`);
  const name = "/" + uniqueName("tmpfs");
  const cmd = [Deno.execPath(), "run", ...IPC_FLAGS, child, "tmpfs", name].join(" ");
  const res = await new Deno.Command("unshare", {
    args: [
      "-m",
      "sh",
      "-c",
      `mount -t tmpfs -o size=1M tmpfs /dev/shm && truncate -s 4M /dev/shm${name} && ${cmd}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(res.stderr);
  equal(res.signal, null, err);
  equal(res.code, 0, err);
  const out = JSON.parse(new TextDecoder().decode(res.stdout).trim());
  deepEqual(out, {
    openSparse: "ENOSPC tmpfs free space",
    create: "ENOSPC tmpfs free space",
    grow: "ENOSPC tmpfs free space",
  });
});

Deno.test("openSharedMemory() allocates the holes of a sparse object it opens writable", () => {
  const name = "/" + uniqueName("sparse");
  const fd = libc().shm_open(
    cstr(name),
    unistd().O_RDWR | unistd().O_CREAT | unistd().O_EXCL,
    0o600,
  );
  ok(fd >= 0);
  try {
    equal(libc().ftruncate(fd, 1n << 20n), 0); // a peer's bare ftruncate: all holes
    equal(Deno.statSync(`/dev/shm${name}`).blocks, 0);
    using shm = openSharedMemory(name);
    ok(Deno.statSync(`/dev/shm${name}`).blocks! * 512 >= 1 << 20, "not allocated");
    shm.bytes.fill(3);
  } finally {
    libc().close(fd);
    removeSharedMemory(name);
  }
});

Deno.test("case 22: a received unsealed descriptor owned by another user is refused; sealed or trusted is mapped", () => {
  const can = otherUserSupport();
  if (!can.ok) return void console.log(`skipped: ${can.reason}`);
  const name = "/" + uniqueName("fdtrust");
  const path = `/dev/shm${name}`;
  const made = createSharedMemory(name, { size: 4096 });
  made.close();
  Deno.chownSync(path, NOBODY, NOBODY); // now another user's object, as if passed to us
  const open = () => libc().open(cstr(path), unistd().O_RDWR | unistd().O_CLOEXEC, 0);
  try {
    const fd = open();
    throws(() => openSharedMemoryFd(fd), (e) => {
      equal(code(e), "EPERM");
      ok(String(e).includes("seal"), String(e));
      return true;
    });
    // Still the caller's: refused without closing it.
    using trusted = openSharedMemoryFd(fd, { trustedUids: [NOBODY] });
    equal(trusted.size, 4096);
    using any = openSharedMemoryFd(open(), { trust: "any" });
    equal(any.size, 4096);
  } finally {
    removeSharedMemory(name);
  }
  // A memfd sealed against shrinking is safe whoever owns it.
  using sealed = createMemfd(uniqueName("sealed"), { size: 4096, sealSize: true });
  const dup = sealed.handle.dup();
  Deno.chownSync(`/proc/self/fd/${dup.fd}`, NOBODY, NOBODY);
  using mapped = openSharedMemoryFd(dup.release());
  equal(mapped.size, 4096);
  // ...and the sealed size cannot be cut under the mapping.
  equal(libc().ftruncate(mapped.handle.fd, 1024n), -1);
  equal(mapped.size, 4096);
});

Deno.test("case 44: a memfd name over 249 bytes is EINVAL; sealing an object that cannot be sealed is EPERM", () => {
  throws(() => createMemfd("x".repeat(250), { size: 8 }), isCode("EINVAL", "memfd_create"));
  const name = "/" + uniqueName("noseal");
  using shm: SharedMemory = createSharedMemory(name, { size: 4096 });
  shm.remove();
  throws(() => shm.sealSize(), isCode("EPERM"));
  using seg = createMemfd(uniqueName("seal"), { size: 8 });
  seg.sealSize();
  throws(() => seg.sealSize(), isCode("EPERM"), "F_SEAL_SEAL forbids more seals");
});

Deno.test("case 20: shared memory after close throws BadResource and never maps again", () => {
  const seg = createMemfd(uniqueName("closed"), { size: 64 });
  seg.close();
  seg.close();
  for (
    const f of [
      () => seg.bytes,
      () => seg.buffer,
      () => seg.size,
      () => seg.resize(128),
      () => seg.sync(),
      () => seg.handle,
      () => seg.typed(Uint8Array),
      () => semaphoreInRegion(seg, 0),
    ]
  ) {
    throws(f, (e) => e instanceof Deno.errors.BadResource && code(e) === "EBADF");
  }
});

Deno.test("openSharedMemoryFd() of a read-only descriptor needs readOnly (EACCES), and leaves it open", () => {
  const name = "/" + uniqueName("rdonly");
  createSharedMemory(name, { size: 4096 }).close();
  try {
    const fd = libc().shm_open(cstr(name), unistd().O_RDONLY | unistd().O_CLOEXEC, 0);
    throws(() => openSharedMemoryFd(fd), isCode("EACCES", "mmap"));
    using shm = openSharedMemoryFd(fd, { readOnly: true });
    equal(shm.size, 4096);
  } finally {
    removeSharedMemory(name);
  }
});

Deno.test("ipckit shm info only looks: a huge sparse object is reported, never mapped", async () => {
  const name = "/" + uniqueName("hugeinfo");
  const fd = libc().shm_open(
    cstr(name),
    unistd().O_RDWR | unistd().O_CREAT | unistd().O_EXCL,
    0o600,
  );
  ok(fd >= 0);
  try {
    equal(libc().ftruncate(fd, 1n << 52n), 0); // sparse: costs nothing
    const io = captureIo();
    equal(await main(["shm", "info", name, "--json"], io), 0, io.stderrText);
    equal(JSON.parse(io.stdoutText).size, 2 ** 52);
    throws(() => openSharedMemory(name), isCode("ENOMEM"), "a writable open would allocate it");
    const missing = captureIo();
    equal(await main(["shm", "info", name + "-no"], missing), 1);
    ok(missing.stderrText.includes("ENOENT"), missing.stderrText);
  } finally {
    libc().close(fd);
    removeSharedMemory(name);
  }
});

Deno.test("a FIFO planted under a shared-memory name is EINVAL at once, also read-only (never a hung open)", () => {
  const name = "/" + uniqueName("shmfifo");
  new Deno.Command("mkfifo", { args: [`/dev/shm${name}`] }).outputSync();
  try {
    for (const readOnly of [false, true]) {
      throws(() => openSharedMemory(name, { readOnly, trust: "any" }), isCode("EINVAL"));
    }
    deepEqual(fdsTo(`/dev/shm${name}`), [], "the refused open left no descriptor");
  } finally {
    Deno.removeSync(`/dev/shm${name}`);
  }
});

Deno.test("as an unprivileged user: huge sizes, a planted truncated semaphore and sealed memfds behave the same", async () => {
  const can = otherUserSupport();
  if (!can.ok) return void console.log(`skipped: ${can.reason}`);
  using stage = stageForNobody(["tests/fixtures/posix_safety_child.ts"]);
  const name = "/" + uniqueName("nobody");
  createSemaphore(name, { value: 1, mode: 0o644 }).close();
  try {
    Deno.truncateSync(`/dev/shm/sem.${name.slice(1)}`, 0);
    const argv = stage.command([
      "run",
      ...IPC_FLAGS,
      stage.path("tests/fixtures/posix_safety_child.ts"),
      "nobody",
      name,
    ]);
    const res = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: stage.env,
      cwd: stage.dir,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(res.stderr);
    equal(res.signal, null, err);
    deepEqual(JSON.parse(new TextDecoder().decode(res.stdout).trim()), {
      memfd: "ENOMEM MemTotal",
      shm: "ENOMEM MemTotal",
      semaphore: "EINVAL",
      sealed: "ok",
    });
  } finally {
    removeSemaphore(name);
  }
});
