import { equal, ok } from "node:assert/strict";
import { denoArgs, runDeno, spawnReady, tempDir } from "./_helpers.ts";

const example = (name: string) => new URL(`../examples/${name}`, import.meta.url).pathname;

Deno.test("examples/cron_no_overlap.ts skips while a run is going and reports a stale pid", async () => {
  using dir = tempDir();
  const path = `${dir.path}/job.lock`;
  const [exe, args] = denoArgs(example("cron_no_overlap.ts"), [path, "3000"]);
  const first = await spawnReady(exe, args, { ready: "working" });
  await using _first = first;
  const second = await runDeno(example("cron_no_overlap.ts"), [path, "0"]);
  equal(second.code, 0);
  ok(second.stdout.startsWith("skipped:"), second.stdout);
  ok(second.stdout.includes(`pid ${first.process.pid}`), second.stdout);
  first.process.kill("SIGKILL");
  await first.process.status;
  const third = await runDeno(example("cron_no_overlap.ts"), [path, "0"]);
  equal(third.code, 0);
  ok(third.stdout.includes(`previous run (pid ${first.process.pid}) died`), third.stdout);
  ok(third.stdout.includes("done"));
});

Deno.test("examples/reload_daemon.ts reloads on SIGHUP and cleans up on SIGTERM", async () => {
  using dir = tempDir();
  const conf = `${dir.path}/app.conf`;
  Deno.writeTextFileSync(conf, "v1\n");
  const [exe, args] = denoArgs(example("reload_daemon.ts"), [conf]);
  await using d = await spawnReady(exe, args, { ready: "ready: v1" });
  ok(Deno.lstatSync(`${conf}.ctl`).isFifo);
  Deno.writeTextFileSync(conf, "v2\n");
  d.process.kill("SIGHUP");
  equal(await d.nextLine(), "reloaded: v2");
  d.process.kill("SIGTERM");
  equal(await d.nextLine(), "stopping");
  equal((await d.process.status).code, 143);
  let gone = false;
  try {
    Deno.lstatSync(`${conf}.ctl`);
  } catch {
    gone = true;
  }
  ok(gone, "the control FIFO must be removed");
});

Deno.test("examples/shared_records.ts loses no update across processes", async () => {
  const r = await runDeno(example("shared_records.ts"), ["3", "20"]);
  equal(r.code, 0, r.stderr);
  equal(r.stdout.trim(), "records: 60 60 60 60 (expected 60 each)");
});
