import { equal, ok } from "node:assert/strict";
import { onShutdown, runCleanups } from "../mod.ts";
import { denoArgs, spawnReady, tempDir } from "./_helpers.ts";

const fixture = new URL("./fixtures/shutdown_child.ts", import.meta.url).pathname;

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

for (const [sig, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
  Deno.test(`case 40: the first ${sig} runs cleanup (removing the FIFO) and exits ${code}`, async () => {
    using dir = tempDir();
    const path = `${dir.path}/fifo`;
    const [exe, args] = denoArgs(fixture, [path, "100"]);
    await using child = await spawnReady(exe, args);
    ok(exists(path));
    child.process.kill(sig);
    equal(await child.nextLine(), "cleanup");
    equal(await child.nextLine(), "removed");
    equal((await child.process.status).code, code);
    ok(!exists(path), "cleanup must have removed the FIFO");
  });
}

Deno.test("a second signal exits at once while a slow cleanup runs", async () => {
  using dir = tempDir();
  const path = `${dir.path}/fifo`;
  const [exe, args] = denoArgs(fixture, [path, "30000"]);
  await using child = await spawnReady(exe, args);
  child.process.kill("SIGTERM");
  equal(await child.nextLine(), "cleanup");
  const t0 = performance.now();
  child.process.kill("SIGINT");
  equal((await child.process.status).code, 130);
  ok(performance.now() - t0 < 5000);
  ok(exists(path), "the interrupted cleanup did not get to remove it");
  Deno.removeSync(path);
});

Deno.test("runCleanups() runs registered cleanups once, last first; disposed ones never", {
  sanitizeOps: false,
}, async () => {
  const order: number[] = [];
  onShutdown(() => order.push(1));
  const gone = onShutdown(() => order.push(99));
  onShutdown(async () => {
    await new Promise((r) => setTimeout(r, 5));
    order.push(2);
  });
  onShutdown(() => {
    throw new Error("a failing cleanup does not stop the others");
  });
  gone[Symbol.dispose]();
  await runCleanups();
  await runCleanups();
  equal(order.join(","), "2,1");
});
