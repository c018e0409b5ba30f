/**
 * Runs a System V smoke script under the aarch64 build of Deno with
 * qemu-user, where `semid_ds` is 88 bytes instead of 104: the layout test
 * checks the tables, this checks the decoding end to end. Uses the aarch64
 * Deno that `.ci/run` fetches into .cache/deno-arm64 (or IPCKIT_DENO_ARM64).
 */
import { equal } from "node:assert/strict";

const cached = new URL("../.cache/deno-arm64/deno", import.meta.url).pathname;
const deno = Deno.env.get("IPCKIT_DENO_ARM64") ??
  (() => {
    try {
      Deno.statSync(cached);
      return cached;
    } catch {
      return undefined;
    }
  })();

Deno.test({
  name: "SysV semaphore stat and queue/segment round trips work on aarch64 (qemu)",
  // CI fetches the aarch64 Deno; a developer machine without it skips.
  ignore: Deno.build.arch !== "x86_64" || (!deno && Deno.env.get("CI") !== "true"),
  async fn() {
    const mod = new URL("../mod.ts", import.meta.url).href;
    const script = `import * as k from "${mod}";
const s = k.createSysvSemaphoreSet({ values: [3, 4, 5], removeOnClose: true });
const st = s.stat();
await s.wait(1, { timeout: 5000 });
const q = k.createSysvMessageQueue({ removeOnClose: true });
q.trySend("arm", { type: 3 });
const m = q.tryReceive();
const shm = k.createSysvSharedMemory({ size: 64, removeOnClose: true });
shm.attach().write(new Uint8Array([1, 2, 3]));
console.log(JSON.stringify([Deno.build.arch, st.count, st.perm.mode, st.opTime !== null,
  s.values(), m.type, new TextDecoder().decode(m.bytes), shm.stat().size, shm.stat().attached]));
s.close(); q.close(); shm.close();`;
    const out = await new Deno.Command("qemu-aarch64", {
      args: ["-L", "/usr/aarch64-linux-gnu", deno!, "eval", "--no-check", script],
      stdout: "piped",
    }).output();
    equal(out.code, 0);
    equal(
      new TextDecoder().decode(out.stdout).trim(),
      JSON.stringify(["aarch64", 3, 0o600, true, [3, 3, 5], 3, "arm", 64, 1]),
    );
  },
});
