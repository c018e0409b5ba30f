/**
 * Runs tests/fixtures/arch_smoke.ts on the other supported architecture: the
 * aarch64 Deno from the npm registry (`@deno/linux-arm64-glibc`, fetched into
 * .cache/deno-arm64 by `.ci/run`) under qemu-aarch64. Layout tables are
 * checked against C elsewhere; this checks that the library really works
 * there: errno, statx, the reactor's pool call, POSIX queues, semaphores and
 * shared memory, descriptor passing and peer credentials, OFD locks.
 */
import { deepEqual } from "node:assert/strict";

const armDeno = new URL("../.cache/deno-arm64/deno", import.meta.url).pathname;
const ready = (() => {
  try {
    Deno.statSync(armDeno);
    return new Deno.Command("sh", { args: ["-c", "command -v qemu-aarch64"], stdout: "null" })
      .outputSync()
      .success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "the library works on aarch64 (its Deno under qemu-aarch64)",
  ignore: Deno.build.arch !== "x86_64" || (!ready && Deno.env.get("CI") !== "true"),
  async fn() {
    const smoke = new URL("./fixtures/arch_smoke.ts", import.meta.url).pathname;
    const out = await new Deno.Command("qemu-aarch64", {
      args: ["-L", "/usr/aarch64-linux-gnu", armDeno, "run", "-A", "--no-check", smoke],
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_UPDATE_CHECK: "1" },
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    deepEqual(JSON.parse(text.split("\n").pop()!), {
      arch: "aarch64",
      pipe: "ping",
      errno: "ENOENT:2:true",
      stat: "fifo:640:true",
      fifo: "fifo",
      timeout: "ETIMEDOUT",
      timeoutOk: true,
      mq: "arm mq:3:4:64",
      sem: "null:0",
      shm: "4096:8",
      sock: "true:true:true",
      lock: true,
    });
  },
});
