/**
 * POSIX semaphores against glibc's own `sem_wait`/`sem_post` in a C process
 * (tests/fixtures/sem_peer.c), in the cases a quick interop test misses: a C
 * waiter asleep in the kernel (its `wchan` says futex) is woken by an ipckit
 * `post()`, C posts are taken unit for unit by `tryWait()`, and 20 000 round
 * trips with a C process waiting in `sem_wait` neither lose nor invent a
 * unit. (An ipckit fast path doing glibc's compare-and-swap on the `sem_t`
 * words from JavaScript was tried and dropped: V8's `Atomics` made it no
 * faster than the FFI calls. The first test is the one that caught its
 * inverted private-futex flag.)
 */
import { equal } from "node:assert/strict";
import { createSemaphore, removeSemaphore, type Semaphore } from "../mod.ts";
import { buildC, spawnReady, uniqueName } from "./_helpers.ts";

let peer: Promise<string> | undefined;
const cPeer = () => peer ??= buildC("sem_peer.c");

/** A named semaphore with value 0 whose disposal also removes its name. */
function tempSemaphore(label: string): Semaphore & { path: string } {
  const path = "/" + uniqueName(label);
  const sem = createSemaphore(path, { value: 0 });
  return Object.assign(sem, {
    path,
    [Symbol.dispose]() {
      removeSemaphore(path);
      sem.close();
    },
  });
}

/** Waits until `pid` sleeps in the kernel on a futex (its `wchan` says so), at most 5 s. */
async function asleepOnFutex(pid: number): Promise<void> {
  const until = Date.now() + 5000;
  for (;;) {
    let wchan = "";
    try {
      wchan = Deno.readTextFileSync(`/proc/${pid}/wchan`);
    } catch { /* not there yet */ }
    if (/futex/.test(wchan)) return;
    if (Date.now() > until) throw new Error(`pid ${pid} never slept on a futex (wchan ${wchan})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// The C peer waits at most 10 s per sem_wait, then exits 1 without "done":
// a unit that never arrives fails the test instead of hanging it.

Deno.test("an ipckit post() wakes a C process asleep in the kernel in sem_wait", async () => {
  using sem = tempSemaphore("semwake");
  await using child = await spawnReady(await cPeer(), ["wait", sem.path, "1"], { ready: null });
  await asleepOnFutex(child.process.pid);
  sem.post();
  equal(await child.nextLine(), "done");
  equal((await child.process.status).code, 0);
  equal(sem.value(), 0);
});

Deno.test("C sem_post units are taken by tryWait() unit for unit", async () => {
  using sem = tempSemaphore("semcount");
  const out = await new Deno.Command(await cPeer(), { args: ["post", sem.path, "1000"] }).output();
  equal(out.code, 0);
  equal(sem.value(), 1000);
  let taken = 0;
  while (sem.tryWait()) taken++;
  equal(taken, 1000);
  equal(sem.tryWait(), null);
  equal(sem.value(), 0);
});

Deno.test("20 000 round trips with a C process waiting in sem_wait: no unit lost or invented", async () => {
  using ping = tempSemaphore("semping");
  using pong = tempSemaphore("sempong");
  const rounds = 20_000;
  await using child = await spawnReady(
    await cPeer(),
    ["pingpong", ping.path, pong.path, String(rounds)],
    { ready: null },
  );
  for (let i = 0; i < rounds; i++) {
    ping.post();
    await pong.wait({ timeout: 10_000 });
  }
  equal(await child.nextLine(), "done");
  equal((await child.process.status).code, 0);
  equal(ping.value(), 0);
  equal(pong.value(), 0);
});
