import { equal, ok, rejects, throws } from "node:assert/strict";
import { createEventFd, type IpcError, listenUnix, sendFds } from "../mod.ts";
import { runDeno, tempDir } from "./_helpers.ts";

const child = new URL("./fixtures/sock_child.ts", import.meta.url);

function code(e: unknown): string {
  return (e as IpcError).code;
}

Deno.test("createEventFd() counts: wait() takes the whole count, tryWait() is null at zero", () => {
  using ev = createEventFd({ initial: 2 });
  ev.post(3);
  equal(ev.tryWait(), 5n);
  equal(ev.tryWait(), null);
  ok(ev.closeOnExec);
});

Deno.test("createEventFd({ semaphore: true }) hands out one at a time", async () => {
  using sem = createEventFd({ semaphore: true, initial: 2 });
  equal(sem.tryWait(), 1n);
  equal(sem.tryWait(), 1n);
  equal(sem.tryWait(), null);
  setTimeout(() => sem.post(), 10);
  equal(await sem.wait({ timeout: 2000 }), 1n);
  await rejects(sem.wait({ timeout: 50 }), (e) => e instanceof Deno.errors.TimedOut);
});

Deno.test("case 43: EventFd rejects bad increments before the syscall and reports overflow", async () => {
  using ev = createEventFd();
  for (const bad of [0, -1, 1.5, 2 ** 64, 0xffffffffffffffffn]) {
    throws(() => ev.post(bad), (e) => code(e) === "EINVAL");
  }
  throws(() => createEventFd({ initial: -1 }), (e) => code(e) === "EINVAL");
  ev.post(0xfffffffffffffffen);
  equal(ev.tryPost(1), null, "a full counter refuses more");
  throws(() => ev.post(1), (e) => code(e) === "EAGAIN");
  const later = ev.postWhenRoom(1, { timeout: 2000 });
  equal(ev.tryWait(), 0xfffffffffffffffen);
  await later;
  equal(ev.tryWait(), 1n);
});

Deno.test("an eventfd passed over a socket wakes this process from another one", async () => {
  using dir = tempDir();
  const path = `${dir.path}/e.sock`;
  using server = listenUnix(path);
  using ev = createEventFd();
  const run = runDeno(child, ["eventfd", path]);
  using conn = await server.accept({ timeout: 10000 });
  await sendFds(conn, [ev]);
  equal(await ev.wait({ timeout: 10000 }), 7n);
  const out = await run;
  equal(out.code, 0, out.stderr);
  equal(out.stdout.trim(), "signalled");
});

Deno.test("EventFd throws BadResource after close", async () => {
  const ev = createEventFd();
  ev.close();
  ev.close();
  throws(() => ev.post(), (e) => e instanceof Deno.errors.BadResource);
  await rejects(ev.wait(), (e) => e instanceof Deno.errors.BadResource);
});
