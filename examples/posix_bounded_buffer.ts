/**
 * The bounded buffer: a producer and a consumer process share a ring of
 * slots in a memfd segment, guarded by three unnamed process-shared
 * semaphores placed in the same segment (free slots, filled slots, and a
 * mutex). Nothing is named, so nothing can be left behind. Run:
 *
 * ```sh
 * deno run --allow-all examples/posix_bounded_buffer.ts [ITEMS]
 * ```
 */
import { createMemfd, openSharedMemoryFd, semaphoreInRegion, withInheritedFds } from "../mod.ts";

const SLOTS = 4;
// Layout: three sem_t at 0, 32, 64 (multiples of 8); head/tail at 96/100; slots from 104.
const FREE = 0, FILLED = 32, MUTEX = 64, HEAD = 96, TAIL = 100, DATA = 104;
const SIZE = DATA + SLOTS * 8;

if (Deno.args[0] === "consumer") {
  using shm = openSharedMemoryFd(Number(Deno.args[1]));
  const items = Number(Deno.args[2]);
  using free = semaphoreInRegion(shm, FREE);
  using filled = semaphoreInRegion(shm, FILLED);
  using mutex = semaphoreInRegion(shm, MUTEX);
  let sum = 0;
  for (let i = 0; i < items; i++) {
    await filled.wait({ timeout: 10000 });
    await mutex.wait();
    const tail = shm.view.getUint32(TAIL, true);
    sum += shm.view.getFloat64(DATA + (tail % SLOTS) * 8, true);
    shm.view.setUint32(TAIL, tail + 1, true);
    mutex.post();
    free.post();
  }
  console.log(sum);
} else {
  const items = Number(Deno.args[0] ?? 100);
  using shm = createMemfd("bounded-buffer", { size: SIZE, sealSize: true });
  using free = semaphoreInRegion(shm, FREE, { initialize: true, value: SLOTS });
  using filled = semaphoreInRegion(shm, FILLED, { initialize: true, value: 0 });
  using mutex = semaphoreInRegion(shm, MUTEX, { initialize: true, value: 1 });
  const consumer = withInheritedFds([shm.handle], () =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-check",
        import.meta.filename!,
        "consumer",
        String(shm.handle.fd),
        String(items),
      ],
      stdout: "piped",
    }).spawn());
  for (let i = 1; i <= items; i++) {
    await free.wait({ timeout: 10000 });
    await mutex.wait();
    const head = shm.view.getUint32(HEAD, true);
    shm.view.setFloat64(DATA + (head % SLOTS) * 8, i, true);
    shm.view.setUint32(HEAD, head + 1, true);
    mutex.post();
    filled.post();
  }
  const out = await consumer.output();
  const got = Number(new TextDecoder().decode(out.stdout).trim());
  console.log(`consumer summed ${got}; expected ${(items * (items + 1)) / 2}`);
}
