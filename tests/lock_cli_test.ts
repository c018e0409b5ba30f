import { equal, ok } from "node:assert/strict";
import { lockFile } from "../mod.ts";
import { denoArgs, spawnReady, tempDir } from "./_helpers.ts";

const main = new URL("../lib/cli/main.ts", import.meta.url).pathname;

async function ipckit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [exe, a] = denoArgs(main, args);
  const out = await new Deno.Command(exe, { args: a, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function holdWithFlock(path: string) {
  return spawnReady("sh", [
    "-c",
    `exec 9>>"$1"; flock -x 9; echo ready; exec sleep 60`,
    "sh",
    path,
  ]);
}

Deno.test("ipckit lock runs the command and passes its exit code through", async () => {
  using dir = tempDir();
  const r = await ipckit(["lock", `${dir.path}/a`, "--", "sh", "-c", "echo out; exit 7"]);
  equal(r.code, 7);
  equal(r.stdout, "out\n");
  const s = await ipckit(["lock", `${dir.path}/a`, "sh", "-c", "kill -TERM $$"]);
  equal(s.code, 143, "death by SIGTERM is 128+15, like flock(1)");
  equal((await ipckit(["lock", `${dir.path}/a`, "--", "no-such-command-xyz"])).code, 127);
});

Deno.test("ipckit lock excludes flock(1) while the command runs", async () => {
  using dir = tempDir();
  const path = `${dir.path}/b`;
  const r = await ipckit(["lock", path, "--", "sh", "-c", `flock -n "$0" true; echo $?`, path]);
  equal(r.code, 0);
  equal(r.stdout.trim(), "1", "flock -n inside the locked command must find it busy");
  const shared = await ipckit([
    "lock",
    "--shared",
    path,
    "--",
    "sh",
    "-c",
    `flock -n -s "$0" true; echo $?`,
    path,
  ]);
  equal(shared.stdout.trim(), "0", "shared locks coexist");
});

Deno.test("ipckit lock -n exits 1 (or -E N) while flock(1) holds the file", async () => {
  using dir = tempDir();
  const path = `${dir.path}/c`;
  await using _h = await holdWithFlock(path);
  equal((await ipckit(["lock", "-n", path, "--", "true"])).code, 1);
  equal(
    (await ipckit(["lock", "--nonblock", "--conflict-exit-code", "9", path, "--", "true"])).code,
    9,
  );
  const t = await ipckit(["lock", "--timeout", "200", path, "--", "true"]);
  equal(t.code, 124);
  equal((await ipckit(["lock", "-w", "0.2", "-E", "5", path, "--", "true"])).code, 5);
});

Deno.test("ipckit lock waits until flock(1) lets go, then runs the command", async () => {
  using dir = tempDir();
  const path = `${dir.path}/d`;
  const holder = await holdWithFlock(path);
  await using _h = holder;
  setTimeout(() => holder.process.kill("SIGKILL"), 400);
  const t0 = performance.now();
  const r = await ipckit(["lock", "--timeout", "10000", path, "--", "echo", "ran"]);
  equal(r.code, 0);
  equal(r.stdout, "ran\n");
  ok(performance.now() - t0 >= 350);
});

Deno.test("ipckit lock makes flock(1) wait, and the lock lives as long as the command", async () => {
  using dir = tempDir();
  const path = `${dir.path}/e`;
  const [exe, a] = denoArgs(main, ["lock", path, "--", "sh", "-c", "echo ready; sleep 0.5"]);
  await using holder = await spawnReady(exe, a);
  const t0 = performance.now();
  const f = await new Deno.Command("flock", { args: ["-w", "10", path, "true"] }).output();
  equal(f.code, 0);
  ok(performance.now() - t0 >= 200, "flock(1) must have waited");
  equal((await holder.process.status).code, 0);
});

Deno.test("ipckit lock who lists holders with pid and command, as text and JSON", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  equal((await ipckit(["lock", "who", path])).code, 1, "missing file is an error");
  using _l = await lockFile(path);
  const t = await ipckit(["lock", "who", path]);
  equal(t.code, 0);
  ok(t.stdout.includes(`pid ${Deno.pid} (deno)`), t.stdout);
  const j = await ipckit(["lock", "who", path, "--json"]);
  const rec = JSON.parse(j.stdout.trim().split("\n")[0]);
  equal(rec.kind, "flock");
  equal(rec.pid, Deno.pid);
  equal(rec.shared, false);
});

Deno.test("ipckit lock rejects bad usage with exit code 2", async () => {
  using dir = tempDir();
  equal((await ipckit(["lock"])).code, 2);
  equal((await ipckit(["lock", `${dir.path}/g`])).code, 2, "no command");
  equal((await ipckit(["lock", "--timeout", "-5", `${dir.path}/g`, "--", "true"])).code, 2);
  equal((await ipckit(["lock", "--bogus", `${dir.path}/g`, "--", "true"])).code, 2);
  equal((await ipckit(["lock", "-w", "abc", `${dir.path}/g`, "--", "true"])).code, 2);
  equal((await ipckit(["lock", dir.path, "--", "true"])).code, 1, "a directory is refused");
});
