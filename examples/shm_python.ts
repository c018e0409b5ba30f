/**
 * Sharing POSIX shared memory with Python's `multiprocessing.shared_memory`,
 * and the resource-tracker gotcha: before Python 3.13, a Python process that
 * only *attaches* to a segment registers it with its resource tracker, which
 * unlinks it when that process exits, so ipckit's segment disappears. The
 * Python side must unregister it (or, on 3.13+, pass `track=False`).
 *
 * Run: deno run --allow-ffi --allow-read --allow-write --allow-run examples/shm_python.ts
 * (needs python3)
 */
import { createSharedMemory, openSharedMemory } from "../mod.ts";

const name = `/ipckit-example-py-${Deno.pid}`;
const python = Deno.env.get("PYTHON") ?? "python3";

/** Python attaches, reads our bytes, writes its own; with `unregister`, it untracks first. */
function attach(unregister: boolean): string {
  return `
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name=${JSON.stringify(name.slice(1))})
${unregister ? 'resource_tracker.unregister(shm._name, "shared_memory")' : ""}
print("python read:", bytes(shm.buf[:5]).decode())
shm.buf[:6] = b"python"
shm.close()
`;
}

function exists(): boolean {
  try {
    openSharedMemory(name).close();
    return true;
  } catch {
    return false;
  }
}

for (const unregister of [false, true]) {
  using shm = createSharedMemory(name, { size: 4096 });
  shm.bytes.set(new TextEncoder().encode("hello"));
  const out = await new Deno.Command(python, { args: ["-c", attach(unregister)] }).output();
  const said = new TextDecoder().decode(out.stdout).trim();
  const back = new TextDecoder().decode(shm.bytes.subarray(0, 6));
  console.log(
    `${unregister ? "with" : "without"} unregister: ${said}; we read "${back}"; ` +
      `segment ${exists() ? "still exists" : "was unlinked by Python's resource tracker"}`,
  );
  if (exists()) shm.remove();
}
