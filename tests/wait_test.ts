import { equal, ok, rejects, throws } from "node:assert/strict";
import { createFifo, createPipe, FdHandle, IpcError, withInheritedFds } from "../mod.ts";
import {
  Deadline,
  MAX_PARKED,
  pendingWaits,
  SLICE_MS,
  SPIN_GIVE_UP,
  SPIN_MAX_US,
  SPIN_MIN_US,
  SPIN_PROBE_EVERY,
  Spinner,
  untilAcquired,
  untilWatched,
  waitFd,
} from "../lib/wait.ts";
import { runDeno, tempDir } from "./_helpers.ts";

Deno.test("case 38: 100 pending waits leave timers and Deno.readTextFile working", async () => {
  using dir = tempDir();
  const file = `${dir.path}/x.txt`;
  Deno.writeTextFileSync(file, "still here");
  const pipes = Array.from({ length: 100 }, () => createPipe());
  const ac = new AbortController();
  try {
    const waits = pipes.map((p) =>
      p.reader.read(new Uint8Array(1), { signal: ac.signal }).catch((e) => e)
    );
    await new Promise((r) => setTimeout(r, 50));
    equal(pendingWaits(), 100);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    const text = await Deno.readTextFile(file);
    const readMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(timer);
    equal(text, "still here");
    ok(readMs < 200, `readTextFile took ${readMs} ms`);
    ok(ticks >= 5, `timer fired ${ticks} times in 100 ms`);
    // One wait completes when its pipe gets data; the rest stay pending.
    await pipes[42].writer.write(new Uint8Array([7]));
    equal(await waits[42], 1);
    equal(pendingWaits(), 99);
    ac.abort();
    const results = await Promise.all(waits);
    ok(results.filter((r) => r instanceof DOMException && r.name === "AbortError").length === 99);
    equal(pendingWaits(), 0);
  } finally {
    for (const p of pipes) p[Symbol.dispose]();
  }
});

Deno.test("a timeout rejects promptly with TimedOut", async () => {
  using p = createPipe();
  const t0 = performance.now();
  await rejects(p.reader.read(new Uint8Array(1), { timeout: 100 }), (e: unknown) => {
    ok(e instanceof IpcError);
    ok(e instanceof Deno.errors.TimedOut);
    equal(e.code, "ETIMEDOUT");
    equal(e.syscall, "read");
    return true;
  });
  const ms = performance.now() - t0;
  ok(ms >= 95 && ms < 400, `took ${ms} ms`);
});

Deno.test("an abort rejects promptly with the signal's reason", async () => {
  using p = createPipe();
  const ac = new AbortController();
  const reason = new Error("caller gave up");
  setTimeout(() => ac.abort(reason), 50);
  const t0 = performance.now();
  await rejects(p.reader.read(new Uint8Array(1), { signal: ac.signal }), (e) => e === reason);
  ok(performance.now() - t0 < 300);
  // An already-aborted signal rejects without waiting.
  await rejects(
    p.reader.read(new Uint8Array(1), { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
});

Deno.test("timeout 0 tries once and then times out", async () => {
  using p = createPipe();
  await rejects(
    p.reader.read(new Uint8Array(1), { timeout: 0 }),
    (e) => e instanceof Deno.errors.TimedOut,
  );
  await p.writer.write(new Uint8Array([1]));
  equal(await p.reader.read(new Uint8Array(1), { timeout: 0 }), 1);
});

Deno.test("bad wait options are rejected before waiting", async () => {
  using p = createPipe();
  for (const timeout of [-1, NaN, "5" as unknown as number]) {
    await rejects(
      p.reader.read(new Uint8Array(1), { timeout }),
      (e) => e instanceof IpcError && e.code === "EINVAL",
    );
  }
  await rejects(
    p.reader.read(new Uint8Array(1), { signal: {} as AbortSignal }),
    (e) => e instanceof IpcError && e.code === "EINVAL",
  );
});

Deno.test("closing a handle rejects its pending waits with BadResource", async () => {
  const p = createPipe();
  const pending = p.reader.read(new Uint8Array(1));
  p.reader.close();
  await rejects(
    pending,
    (e) => e instanceof Deno.errors.BadResource && (e as IpcError).code === "EBADF",
  );
  p.writer.close();
});

Deno.test("closing a handle rejects every one of several pending waits, not every other one", async () => {
  const p = createPipe();
  // A timeout, so that a wait the close forgets fails the test instead of hanging it.
  const pending = [1, 2, 3].map(() => p.reader.read(new Uint8Array(1), { timeout: 5000 }));
  p.reader.close();
  for (const wait of pending) {
    await rejects(wait, (e) => e instanceof IpcError && e.code === "EBADF");
  }
  p.writer.close();
});

Deno.test("case 39: the process exits on its own after an aborted or timed-out wait", async () => {
  const script = new URL("./fixtures/abandoned_wait.ts", import.meta.url);
  const t0 = performance.now();
  const { code, stdout } = await runDeno(script);
  equal(code, 0);
  equal(stdout.trim(), "aborted\ntimed out\nreturning");
  ok(performance.now() - t0 < 10_000);
});

Deno.test("untilAcquired() parks at most MAX_PARKED waits on the pool and gives back late acquisitions", async () => {
  let value = 0;
  let parks = 0;
  let released = 0;
  let parkedNow = 0;
  let parkedMax = 0;
  let sliceMax = 0;
  const acq = {
    attempt: () => (value > 0 ? (value--, 1) : null),
    park: async (ms: number) => {
      parks++;
      sliceMax = Math.max(sliceMax, ms);
      parkedMax = Math.max(parkedMax, ++parkedNow);
      await new Promise((r) => setTimeout(r, Math.min(ms, 30)));
      parkedNow--;
      return value > 0 ? (value--, 1) : null;
    },
    release: () => {
      released++;
      value++;
    },
  };
  const waits = Array.from(
    { length: 10 },
    () => untilAcquired(acq, new Deadline({ timeout: 2000 }, "sem_wait")),
  );
  setTimeout(() => (value = 10), 100);
  const got = await Promise.all(waits);
  equal(got.length, 10);
  equal(value, 0);
  ok(parks > 0);
  equal(parkedMax, MAX_PARKED);
  ok(sliceMax > 0 && sliceMax <= SLICE_MS, `a park asked to block ${sliceMax} ms`);
  // A park that acquires after its caller timed out hands the value back.
  value = 0;
  const slow = {
    attempt: () => null,
    park: async () => {
      await new Promise((r) => setTimeout(r, 80));
      return 1;
    },
    release: () => released++,
  };
  await rejects(
    untilAcquired(slow, new Deadline({ timeout: 20 }, "sem_wait")),
    (e) => e instanceof Deno.errors.TimedOut,
  );
  await new Promise((r) => setTimeout(r, 120));
  equal(released, 1);
});

Deno.test("waitFd() reports hang-up when the other end closes", async () => {
  const p = createPipe();
  const w = waitFd(p.reader.fd, "read", new Deadline({ timeout: 1000 }, "poll"));
  p.writer.close();
  const revents = await w;
  ok((revents & 16) !== 0, `revents ${revents}`);
  p.reader.close();
});

Deno.test("Spinner holds the loop at most SPIN_MAX_US, goes short after misses, probes again", () => {
  using p = createPipe(); // loads libc before anything is timed
  const spinner = new Spinner();
  const timed = (fn: () => unknown) => {
    const t0 = performance.now();
    fn();
    return (performance.now() - t0) * 1000;
  };
  let calls = 0;
  const first = timed(() => equal(spinner.spin(() => (calls++, null)), null));
  // (The upper bound allows for a shared machine preempting this process.)
  ok(first >= SPIN_MAX_US * 0.9 && first < SPIN_MAX_US + 20_000, `first spin ${first} µs`);
  ok(calls >= 1);
  // Full spins until SPIN_GIVE_UP misses in a row, then short ones...
  for (let i = 1; i < SPIN_GIVE_UP; i++) spinner.spin(() => null);
  const short = Array.from(
    { length: SPIN_PROBE_EVERY - 1 },
    () => timed(() => spinner.spin(() => null)),
  );
  ok(Math.min(...short) < SPIN_MAX_US / 2, `short spins ${short.map(Math.round)}`);
  // ...with one full probe every SPIN_PROBE_EVERY waits, which a success turns back into full spins.
  // (A second try is enough to tell a full probe from a short spin; a loaded
  // machine can preempt the spinner for most of a full budget.)
  let n = 0;
  equal(spinner.spin(() => (++n >= 2 ? "probe" : null)), "probe");
  const again = timed(() => spinner.spin(() => null));
  ok(again >= SPIN_MAX_US * 0.9, `full spin after a success: ${again} µs`);
  // With a descriptor, the spin sleeps in the kernel and wakes when it is ready.
  const fresh = new Spinner();
  let tries = 0;
  const idle = timed(() =>
    fresh.spin(() => (tries++, p.reader.tryRead(new Uint8Array(1))), p.reader.fd, 1)
  );
  ok(tries <= 20, `${tries} tries while sleeping in ppoll`);
  ok(idle >= SPIN_MAX_US * 0.9, `ppoll spin ${idle} µs`);
  p.writer.tryWrite(new Uint8Array([1]));
  equal(fresh.spin(() => p.reader.tryRead(new Uint8Array(1)), p.reader.fd, 1), 1);
  ok(SPIN_MIN_US < SPIN_MAX_US);
});

Deno.test("Deadline refuses timeout null, NaN, negatives and strings when it is made", () => {
  for (const timeout of [null, NaN, -1, -Infinity, "5", "", {}]) {
    throws(
      () => new Deadline({ timeout } as unknown as { timeout: number }, "read", "x"),
      (e) => e instanceof IpcError && e.code === "EINVAL" && e.syscall === "read",
      String(timeout),
    );
  }
  // Omitted, Infinity and 0 are the valid spellings of "forever" and "once".
  equal(new Deadline({}, "read").remaining(), Infinity);
  equal(new Deadline(undefined, "read").remaining(), Infinity);
  equal(new Deadline({ timeout: Infinity }, "read").remaining(), Infinity);
  equal(new Deadline({ timeout: 0 }, "read").remaining(), 0);
});

Deno.test("a wait with timeout null is EINVAL before any attempt, even when data is ready", async () => {
  using p = createPipe();
  await p.writer.write(new Uint8Array([1, 2]));
  await rejects(
    p.reader.read(new Uint8Array(1), { timeout: null as unknown as number }),
    (e) => e instanceof IpcError && e.code === "EINVAL",
  );
  // Nothing was consumed by the refused call.
  equal(p.reader.tryRead(new Uint8Array(2)), 2);
});

Deno.test("an aborted signal rejects before the first attempt, even when data is ready", async () => {
  using p = createPipe();
  await p.writer.write(new Uint8Array([1]));
  const reason = new Error("already gone");
  await rejects(
    p.reader.read(new Uint8Array(1), { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  await rejects(
    p.writer.writeAll(new Uint8Array(1), { signal: AbortSignal.abort(reason) }),
    (e) => e === reason,
  );
  equal(p.reader.tryRead(new Uint8Array(2)), 1, "the refused read consumed nothing");
});

Deno.test("untilWatched() retries on its timer when the watched fd stays quiet, and on readiness", async () => {
  using p = createPipe();
  let tries = 0;
  // The pipe never becomes readable: only the 1 ms backoff timer drives the retries.
  const got = await untilWatched(
    () => (++tries >= 5 ? "done" : null),
    new Deadline({ timeout: 5000 }, "open", "x"),
    { fd: p.reader.fd, maxBackoffMs: 1 },
  );
  equal(got, "done");
  equal(tries, 5);
  // Readiness wakes it early and runs onReady before the next try.
  let ready = false;
  let drained = 0;
  setTimeout(() => p.writer.tryWrite(new Uint8Array([1])), 30);
  const t0 = performance.now();
  await untilWatched(() => (ready ? true : null), new Deadline({ timeout: 5000 }, "open"), {
    fd: p.reader.fd,
    maxBackoffMs: 10_000,
    onReady: () => {
      drained += p.reader.tryRead(new Uint8Array(8)) ?? 0;
      ready = true;
    },
  });
  equal(drained, 1);
  ok(performance.now() - t0 < 2000);
  // It times out with the caller's deadline, not the slice's.
  await rejects(
    untilWatched(() => null, new Deadline({ timeout: 30 }, "open", "fifo"), { fd: p.reader.fd }),
    (e) => e instanceof IpcError && e.code === "ETIMEDOUT" && e.syscall === "open",
  );
});

Deno.test("an options bag that is not an object is EINVAL naming the call, not a hidden default", async () => {
  using p = createPipe();
  for (const options of [null, 5, "5", true, 5n, Symbol("x")]) {
    throws(
      () => new Deadline(options as unknown as { timeout: number }, "read", "x"),
      (e) => e instanceof IpcError && e.code === "EINVAL" && e.syscall === "read",
    );
    await rejects(
      p.reader.read(new Uint8Array(1), options as unknown as { timeout: number }),
      (e) => e instanceof IpcError && e.code === "EINVAL" && e.syscall === "read",
      String(typeof options),
    );
  }
  // Arrays too, in every options check (createPipe() took [] for {} before).
  const isEinval = (syscall: string) => (e: unknown) =>
    e instanceof IpcError && e.code === "EINVAL" && e.syscall === syscall;
  throws(() => createPipe([] as never), isEinval("pipe2"));
  throws(() => new FdHandle(p.reader.fd, [] as never), isEinval("fcntl"));
  throws(() => withInheritedFds([], () => 0, [] as never), isEinval("fcntl(F_SETFD)"));
  throws(() => createFifo("/nonexistent/f", [] as never), isEinval("mkfifo"));
});
