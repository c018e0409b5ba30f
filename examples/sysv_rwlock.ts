/**
 * A reader/writer lock across processes from one System V semaphore set,
 * with `SEM_UNDO` so a holder that is killed cannot keep it.
 *
 * Semaphore 0 is 1 while a writer holds the lock; semaphore 1 counts readers.
 * Each step is one atomic `semop`:
 *
 * - read lock:    [wait sem0 == 0, sem1 += 1]
 * - write lock:   [wait sem0 == 0, wait sem1 == 0, sem0 += 1]
 * - unlock:       the inverse increment
 *
 * All increments use `SEM_UNDO`, so when a holder dies the kernel takes its
 * increment back and the lock is free again.
 *
 * The demo: two readers share the lock; then a child process takes the
 * write lock and is killed with SIGKILL while holding it; the parent still
 * gets the write lock.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-run examples/sysv_rwlock.ts
 * ```
 */
import {
  createSysvSemaphoreSet,
  openSysvSemaphoreSet,
  type SysvSemaphoreSet,
  type WaitOptions,
} from "../mod.ts";

const WRITER = 0, READERS = 1;

/** A reader/writer lock on a two-semaphore set. */
export class RwLock {
  constructor(readonly sem: SysvSemaphoreSet) {}

  /** Shares the lock with other readers; waits while a writer holds it. */
  read(options?: WaitOptions): Promise<void> {
    return this.sem.op([
      { index: WRITER, delta: 0 },
      { index: READERS, delta: 1, undo: true },
    ], options);
  }

  /** Takes the lock alone; waits for the writer and every reader to leave. */
  write(options?: WaitOptions): Promise<void> {
    return this.sem.op([
      { index: WRITER, delta: 0 },
      { index: READERS, delta: 0 },
      { index: WRITER, delta: 1, undo: true },
    ], options);
  }

  /** Releases a read lock. */
  unlockRead(): void {
    this.sem.tryOp([{ index: READERS, delta: -1, undo: true }]);
  }

  /** Releases the write lock. */
  unlockWrite(): void {
    this.sem.tryOp([{ index: WRITER, delta: -1, undo: true }]);
  }
}

async function demo(): Promise<void> {
  using sem = createSysvSemaphoreSet({ count: 2, removeOnClose: true });
  const lock = new RwLock(sem);

  await lock.read({ timeout: 1000 });
  await lock.read({ timeout: 1000 });
  console.log(`two readers hold it: readers=${sem.value(READERS)}`);
  await lock.write({ timeout: 100 }).catch((e) => console.log(`writer waits: ${e.code}`));
  lock.unlockRead();
  lock.unlockRead();

  const self = new URL(import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-ffi", "--allow-read", self, "hold", String(sem.id)],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const line = (await reader.read()).value?.trim();
  console.log(`child: ${line}; writer=${sem.value(WRITER)}`);
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel();

  await lock.write({ timeout: 2000 });
  console.log(`after the child was killed the parent got the write lock`);
  lock.unlockWrite();
}

if (import.meta.main) {
  if (Deno.args[0] === "hold") {
    const lock = new RwLock(openSysvSemaphoreSet({ id: Number(Deno.args[1]) }));
    await lock.write();
    console.log("holding the write lock");
    setInterval(() => {}, 1000); // until killed
  } else {
    await demo();
  }
}
