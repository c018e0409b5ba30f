import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  createMessageQueue,
  createSemaphore,
  type IpcError,
  openMessageQueue,
  openSemaphore,
  openSharedMemory,
  removeMessageQueue,
  removeSemaphore,
} from "../mod.ts";
import { asNobodyTest, ipcSnapshot, uniqueName } from "./_helpers.ts";

Deno.test("40 concurrent semaphore and queue waits leave Deno's pool free", async () => {
  const semName = "/" + uniqueName("sem");
  const qName = "/" + uniqueName("mq");
  using sem = createSemaphore(semName);
  using q = createMessageQueue(qName, { maxMessages: 10, messageSize: 16 });
  try {
    const waits = [
      ...Array.from({ length: 20 }, () => sem.wait({ timeout: 5000 })),
      ...Array.from({ length: 20 }, () => q.receive({ timeout: 5000 })),
    ];
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    await Deno.readTextFile("/proc/self/status");
    const took = performance.now() - t0;
    ok(took < 100, `readTextFile took ${took} ms with 40 waits pending`);
    for (let i = 0; i < 20; i++) sem.post();
    for (let i = 0; i < 20; i++) await q.send(String(i), { timeout: 5000 });
    const results = await Promise.all(waits);
    equal(results.length, 40);
    equal(sem.value(), 0);
  } finally {
    removeSemaphore(semName);
    removeMessageQueue(qName);
  }
});

/**
 * Descriptors of this process that refer to an object whose name contains
 * `name` (checked by link target: under `deno test --parallel` every test file
 * shares the process, so a plain descriptor count would race with them).
 */
function fdsFor(name: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const target = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
      if (target.includes(name)) out.push(target);
    } catch { /* closed meanwhile */ }
  }
  return out;
}

Deno.test("refused and failed opens leak no descriptor and no object", () => {
  // POSIX part of the snapshot only: System V objects belong to other, parallel test files.
  const posixSnapshot = () => ipcSnapshot().filter((o) => !o.startsWith("sysv-"));
  const before = posixSnapshot();
  {
    throws(
      () => openMessageQueue("/" + uniqueName("mq")),
      (e) => (e as IpcError).code === "ENOENT",
    );
    throws(
      () => openSharedMemory("/" + uniqueName("shm")),
      (e) => (e as IpcError).code === "ENOENT",
    );
    throws(() => openSemaphore("/" + uniqueName("sem")), (e) => (e as IpcError).code === "ENOENT");
    throws(
      () => openMessageQueue("/" + uniqueName("mq"), { create: { maxMessages: 99 } }),
      (e) => (e as IpcError).code === "EINVAL",
    );
  }
  deepEqual(posixSnapshot(), before);
  // A queue writable by others is refused, and the descriptor opened to check it is closed.
  const name = "/" + uniqueName("mq");
  using q = createMessageQueue(name, { mode: 0o666, maxMessages: 1 });
  try {
    equal(fdsFor(name).length, 1, "only the creator's descriptor");
    throws(() => openMessageQueue(name), (e) => (e as IpcError).code === "EPERM");
    equal(fdsFor(name).length, 1, "the refused open left no descriptor");
  } finally {
    q.remove();
  }
});

Deno.test(
  asNobodyTest(
    "case 06: objects planted by another user are refused (EPERM) before any data is read",
  ),
  async () => {
    const name = uniqueName("planted");
    const py = `import sys
from multiprocessing import shared_memory, resource_tracker
s = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=16)
resource_tracker.unregister(s._name, "shared_memory")
s.buf[:6] = b"ATTACK"`;
    const out = await new Deno.Command("setpriv", {
      args: [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "/usr/bin/python3",
        "-c",
        py,
        name,
      ],
      env: { HOME: "/tmp" },
      stderr: "piped",
    }).output();
    try {
      equal(out.code, 0, new TextDecoder().decode(out.stderr));
      Deno.chmodSync(`/dev/shm/${name}`, 0o600);
      throws(
        () => openSharedMemory(`/${name}`),
        (e) => (e as IpcError).code === "EPERM" && e instanceof Deno.errors.PermissionDenied,
      );
      equal(fdsFor(name).length, 0, "the refused open left no descriptor");
      using trusted = openSharedMemory(`/${name}`, { trust: "any", readOnly: true });
      equal(new TextDecoder().decode(trusted.bytes.subarray(0, 6)), "ATTACK");
      using listed = openSharedMemory(`/${name}`, { trustedUids: [65534], readOnly: true });
      equal(listed.bytes[0], "A".charCodeAt(0));
      throws(
        () => openSharedMemory(`/${name}`, { trustedUids: [1234] }),
        (e) => (e as IpcError).code === "EPERM",
      );
    } finally {
      try {
        Deno.removeSync(`/dev/shm/${name}`);
      } catch { /* not created */ }
    }
  },
);
