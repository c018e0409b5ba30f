/**
 * POSIX semaphores against glibc's own `sem_wait`/`sem_post` in a C process
 * (tests/fixtures/sem_peer.c), in the cases a quick interop test misses: a C
 * waiter asleep in the kernel (its `wchan` says futex) is woken by an ipckit
 * `post()`, C posts are taken unit for unit by `tryWait()`, and 20 000 round
 * trips with a C process that sleeps between them neither lose nor invent a
 * unit. (An ipckit fast path doing glibc's compare-and-swap on the `sem_t`
 * words from JavaScript was tried and dropped: V8's `Atomics` made it no
 * faster than the FFI calls. The first test is the one that caught its
 * inverted private-futex flag.)
 */
import { equal, ok, throws } from "node:assert/strict";
import { createSemaphore, IpcError, type Semaphore } from "../mod.ts";
import { buildC, ipcSnapshot, uniqueName } from "./_helpers.ts";

let peer: Promise<string> | undefined;
const cPeer = () => peer ??= buildC("sem_peer.c");
const decoder = new TextDecoder();

/** A named semaphore with value 0, removed (name) when the test ends. */
function tempSemaphore(label: string): Semaphore & { path: string } {
  const name = "/" + uniqueName(label);
  const sem = createSemaphore(name, { value: 0 });
  return Object.assign(sem, { path: name });
}

/** Waits until `pid` sleeps in the kernel on a futex (its `wchan` says so), at most 5 s. */
async function asleepOnFutex(pid: number): Promise<string> {
  const until = Date.now() + 5000;
  for (;;) {
    let wchan = "";
    try {
      wchan = Deno.readTextFileSync(`/proc/${pid}/wchan`);
    } catch { /* not there yet */ }
    if (/futex/.test(wchan)) return wchan;
    if (Date.now() > until) throw new Error(`pid ${pid} never slept on a futex (wchan ${wchan})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function finished(child: Deno.ChildProcess, ms: number): Promise<Deno.CommandOutput> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the C peer did not finish within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([child.output(), late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("an ipckit post() wakes a C process asleep in the kernel in sem_wait", async () => {
  const before = ipcSnapshot();
  using sem = tempSemaphore("semwake");
  try {
    const child = new Deno.Command(await cPeer(), {
      args: ["wait", sem.path, "1"],
      stdout: "piped",
    }).spawn();
    ok((await asleepOnFutex(child.pid)).length > 0);
    sem.post();
    const out = await finished(child, 3000);
    equal(out.code, 0);
    equal(decoder.decode(out.stdout).trim(), "done");
    equal(sem.value(), 0);
  } finally {
    sem.remove();
  }
  equal(ipcSnapshot().length, before.length);
});

Deno.test("C sem_post units are taken by tryWait() unit for unit", async () => {
  using sem = tempSemaphore("semcount");
  try {
    const out = await new Deno.Command(await cPeer(), { args: ["post", sem.path, "1000"] })
      .output();
    equal(out.code, 0);
    equal(sem.value(), 1000);
    let taken = 0;
    while (sem.tryWait()) taken++;
    equal(taken, 1000);
    equal(sem.tryWait(), null);
    equal(sem.value(), 0);
  } finally {
    sem.remove();
  }
});

Deno.test("20 000 round trips with a C process that sleeps in sem_wait: no unit lost or invented", async () => {
  using ping = tempSemaphore("semping");
  using pong = tempSemaphore("sempong");
  try {
    const rounds = 20_000;
    const child = new Deno.Command(await cPeer(), {
      args: ["pingpong", ping.path, pong.path, String(rounds)],
      stdout: "piped",
    }).spawn();
    const done = finished(child, 60_000);
    for (let i = 0; i < rounds; i++) {
      ping.post();
      await pong.wait({ timeout: 10_000 });
    }
    const out = await done;
    equal(out.code, 0);
    equal(decoder.decode(out.stdout).trim(), "done");
    equal(ping.value(), 0);
    equal(pong.value(), 0);
  } finally {
    ping.remove();
    pong.remove();
  }
});

Deno.test("post() at SEM_VALUE_MAX is EOVERFLOW and leaves the value; closed handles throw, never touch memory", () => {
  const name = "/" + uniqueName("semmax");
  const sem = createSemaphore(name, { value: 2147483646 });
  try {
    sem.post();
    equal(sem.value(), 2147483647);
    throws(() => sem.post(), (e) => e instanceof IpcError && e.code === "EOVERFLOW");
    equal(sem.value(), 2147483647);
    equal(sem.tryWait(), true);
    equal(sem.value(), 2147483646);
  } finally {
    sem.remove();
    sem.close();
  }
  throws(() => sem.post(), (e) => e instanceof IpcError && e.code === "EBADF");
  throws(() => sem.tryWait(), (e) => e instanceof IpcError && e.code === "EBADF");
});
