/**
 * Issue 17: POSIX names take exactly what the kernel takes. Queues and
 * shared memory: a slash and 1 to 255 bytes (NAME_MAX); semaphores: 251
 * (glibc's file is `sem.<name>`). A C peer shows what libc and the kernel
 * accept at the limit and one over; ipckit must agree, with ENAMETOOLONG
 * for every kind.
 */
import { equal, ok, throws } from "node:assert/strict";
import {
  createMessageQueue,
  createSemaphore,
  createSharedMemory,
  IpcError,
  openMessageQueue,
  openSemaphore,
  openSharedMemory,
  removeMessageQueue,
  removeSemaphore,
  removeSharedMemory,
} from "../mod.ts";
import { captureIo, main } from "../lib/cli/main.ts";
import { uniqueName } from "./_helpers.ts";
import { cPeer } from "./_posix_helpers.ts";

const kinds = {
  mq: {
    limit: 255,
    create: (n: string) => createMessageQueue(n, { maxMessages: 1, messageSize: 16 }).close(),
    open: (n: string) => openMessageQueue(n).close(),
    remove: removeMessageQueue,
  },
  shm: {
    limit: 255,
    create: (n: string) => createSharedMemory(n, { size: 16 }).close(),
    open: (n: string) => openSharedMemory(n).close(),
    remove: removeSharedMemory,
  },
  sem: {
    limit: 251,
    create: (n: string) => createSemaphore(n).close(),
    open: (n: string) => openSemaphore(n).close(),
    remove: removeSemaphore,
  },
} as const;

/** A name of exactly `bytes` bytes after the slash, unique to this test run. */
function nameOf(bytes: number, tag: string): string {
  const base = uniqueName(tag);
  return "/" + base + "x".repeat(bytes - base.length);
}

async function c(kind: string, op: string, name: string): Promise<string> {
  const out = await new Deno.Command(await cPeer(), {
    args: ["name", kind, op, name],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

function code(e: unknown): string {
  ok(e instanceof IpcError, `not an IpcError: ${e}`);
  return (e as IpcError).code;
}

for (const [kind, k] of Object.entries(kinds)) {
  Deno.test(`${kind}: a name of ${k.limit} bytes works both ways with C`, async () => {
    const name = nameOf(k.limit, kind);
    equal(name.length, k.limit + 1);
    // C creates, ipckit opens and removes.
    equal(await c(kind, "create", name), "ok");
    try {
      k.open(name);
    } finally {
      k.remove(name);
    }
    // ipckit creates, C opens and removes.
    k.create(name);
    try {
      equal(await c(kind, "open", name), "ok");
    } finally {
      equal(await c(kind, "remove", name), "ok");
    }
  });

  Deno.test(`case 02: ${kind}: one byte over the limit is ENAMETOOLONG, as in C`, async () => {
    const name = nameOf(k.limit + 1, kind);
    equal(await c(kind, "create", name), "ENAMETOOLONG");
    for (const op of [k.create, k.open, k.remove]) {
      throws(() => op(name), (e) => {
        equal(code(e), "ENAMETOOLONG");
        equal((e as IpcError).limit, kind === "sem" ? "NAME_MAX - 4 (sem.)" : "NAME_MAX");
        ok((e as Error).message.includes(String(k.limit)), (e as Error).message);
        return true;
      });
    }
  });

  Deno.test(`ipckit ${kind} rm: at the limit removes, one over is refused`, async () => {
    const name = nameOf(k.limit, kind);
    equal(await c(kind, "create", name), "ok");
    let io = captureIo();
    equal(await main([kind, "rm", name], io), 0, io.stderrText);
    equal(await c(kind, "open", name), "ENOENT");
    io = captureIo();
    equal(await main([kind, "rm", nameOf(k.limit + 1, kind)], io), 1);
    ok(io.stderrText.includes("ENAMETOOLONG"), io.stderrText);
  });

  Deno.test(`ipckit rm posix-${kind}: at the limit removes, one over is refused`, async () => {
    const name = nameOf(k.limit, kind);
    equal(await c(kind, "create", name), "ok");
    let io = captureIo();
    equal(await main(["rm", `posix-${kind}`, name], io), 0, io.stderrText);
    equal(await c(kind, "open", name), "ENOENT");
    io = captureIo();
    equal(await main(["rm", `posix-${kind}`, nameOf(k.limit + 1, kind)], io), 1);
    ok(io.stderrText.includes("ENAMETOOLONG"), io.stderrText);
  });
}
