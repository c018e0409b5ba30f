import { equal, ok } from "node:assert/strict";
import { lockFile } from "../mod.ts";
import { captureIo, main } from "../lib/cli/main.ts";
import { ipcTaskFlags, spawnReady, tempDir } from "./_helpers.ts";

const mainPath = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const IPC_FLAGS = ipcTaskFlags(); // what a user of the CLI grants, never -A

/** `ipckit ARGS` in this process. */
async function ipckit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo();
  const code = await main(args, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

/** `ipckit ARGS` as its own process, run the way the `ipc` task runs it. */
function processArgs(args: string[]): [string, string[]] {
  return [Deno.execPath(), ["run", ...IPC_FLAGS, "--no-check", mainPath, ...args]];
}

function holdWithFlock(path: string) {
  return spawnReady("sh", [
    "-c",
    `exec 9>>"$1"; flock -x 9; echo ready; exec sleep 60`,
    "sh",
    path,
  ]);
}

Deno.test("ipckit lock runs the command and passes its exit code through (process)", async () => {
  using dir = tempDir();
  const [exe, a] = processArgs(["lock", `${dir.path}/a`, "--", "sh", "-c", "echo out; exit 7"]);
  const r = await new Deno.Command(exe, { args: a, stdout: "piped", stderr: "piped" }).output();
  equal(r.code, 7, new TextDecoder().decode(r.stderr));
  equal(new TextDecoder().decode(r.stdout), "out\n");
});

Deno.test("ipckit lock reports death by signal as 128+N, realtime signals included", async () => {
  using dir = tempDir();
  const s = await ipckit(["lock", `${dir.path}/a`, "sh", "-c", "kill -TERM $$"]);
  equal(s.code, 143, "death by SIGTERM is 128+15, like flock(1)");
  // Deno's ChildProcess.status throws "Invalid signal: 35" here; ipckit must not.
  const rt = await ipckit(["lock", `${dir.path}/a`, "--", "sh", "-c", "kill -s RTMIN+1 $$"]);
  equal(rt.code, 128 + 35, rt.stderr);
  const missing = await ipckit(["lock", `${dir.path}/a`, "--", "no-such-command-xyz"]);
  equal(missing.code, 69, "flock(1)'s EX_UNAVAILABLE");
  equal(
    missing.stderr,
    "ipckit: failed to execute no-such-command-xyz: No such file or directory\n",
  );
});

Deno.test("ipckit lock excludes flock(1) while the command runs", async () => {
  using dir = tempDir();
  const path = `${dir.path}/b`;
  const out = `${dir.path}/out`;
  const r = await ipckit([
    "lock",
    path,
    "--",
    "sh",
    "-c",
    `flock -n "$0" true; echo $? > "$1"`,
    path,
    out,
  ]);
  equal(r.code, 0);
  equal(Deno.readTextFileSync(out).trim(), "1", "flock -n inside the locked command finds it busy");
  await ipckit([
    "lock",
    "--shared",
    path,
    "--",
    "sh",
    "-c",
    `flock -n -s "$0" true; echo $? > "$1"`,
    path,
    out,
  ]);
  equal(Deno.readTextFileSync(out).trim(), "0", "shared locks coexist");
  await ipckit([
    "lock",
    "-o",
    path,
    "--",
    "sh",
    "-c",
    `flock -n "$0" true; echo $? > "$1"`,
    path,
    out,
  ]);
  equal(Deno.readTextFileSync(out).trim(), "1", "-o keeps the lock without handing it over");
});

Deno.test("ipckit lock -n exits 1 (or -E N) while flock(1) holds the file", async () => {
  using dir = tempDir();
  const path = `${dir.path}/c`;
  await using _h = await holdWithFlock(path);
  equal((await ipckit(["lock", "-n", path, "--", "true"])).code, 1);
  // ipckit's own form: options after PATH, ended by "--" (the README's example).
  equal((await ipckit(["lock", path, "--nonblock", "--", "true"])).code, 1);
  equal((await ipckit(["lock", path, "-w", "0.1", "-E", "3", "--", "true"])).code, 3);
  equal((await ipckit(["lock", path, "-n", "stray", "--", "true"])).code, 2);
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
  const r = await ipckit(["lock", "--timeout", "10000", path, "--", "touch", `${dir.path}/ran`]);
  equal(r.code, 0);
  ok(Deno.statSync(`${dir.path}/ran`).isFile);
  ok(performance.now() - t0 >= 350);
});

Deno.test("ipckit lock makes flock(1) wait, and the lock lives as long as the command (process)", async () => {
  using dir = tempDir();
  const path = `${dir.path}/e`;
  const [exe, a] = processArgs(["lock", path, "--", "sh", "-c", "echo ready; sleep 0.5"]);
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
  const bogus = await ipckit(["lock", "--bogus", `${dir.path}/g`, "--", "true"]);
  equal(bogus.code, 2);
  ok(bogus.stderr.includes("--help"), bogus.stderr);
  equal((await ipckit(["lock", "-w", "abc", `${dir.path}/g`, "--", "true"])).code, 2);
  const who = await ipckit(["lock", "who"]);
  equal(who.code, 2, "a lone 'who' is neither a descriptor nor PATH COMMAND");
  equal(who.stderr.split("\n").length, 3, `one line plus the --help hint: ${who.stderr}`);
  equal((await ipckit(["lock", `${dir.path}/g`])).code, 2, "neither a COMMAND nor an FD");
  equal((await ipckit(["lock", "-E", "300", `${dir.path}/g`, "true"])).code, 2);
  equal((await ipckit(["lock", "-F", "-o", `${dir.path}/g`, "true"])).code, 2);
  equal((await ipckit(["lock", `${dir.path}/g`, "-c"])).code, 2);
  equal((await ipckit(["lock", `${dir.path}/g`, "-c", "a", "b"])).code, 2);
  equal((await ipckit(["lock", "--no", `${dir.path}/g`, "true"])).code, 2, "ambiguous prefix");
  equal((await ipckit(["lock", "--mode", "999", `${dir.path}/g`, "true"])).code, 2);
  Deno.writeTextFileSync(`${dir.path}/shared`, "");
  Deno.chmodSync(`${dir.path}/shared`, 0o666);
  equal(
    (await ipckit(["lock", `${dir.path}/shared`, "--", "true"])).code,
    0,
    "locking needs no trust: any owner and mode, as flock(1)",
  );
  await new Deno.Command("mkfifo", { args: [`${dir.path}/fifo`] }).output();
  const fifo = await ipckit(["lock", `${dir.path}/fifo`, "--", "true"]);
  equal(fifo.code, 66, "a FIFO is refused without blocking (flock(1) would block)");
  Deno.symlinkSync(`${dir.path}/shared`, `${dir.path}/link`);
  const link = await ipckit(["lock", `${dir.path}/link`, "--", "true"]);
  equal(link.code, 66, "but never through a symlink");
  ok(link.stderr.includes("ELOOP"), link.stderr);
  const help = await ipckit(["lock", "--help"]);
  equal(help.code, 0);
  ok(help.stdout.startsWith("Usage: ipckit lock"), help.stdout);
});
