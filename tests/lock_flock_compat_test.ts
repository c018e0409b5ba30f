/**
 * `ipckit lock` as a drop-in for util-linux flock(1): the same shell
 * scripts run once with `flock` and once with `ipckit lock` (as its own
 * process, with the `ipc` task's permissions) and must print the same and
 * exit the same. Only the program name in messages and the measured time
 * differ. Plus in-process tests of the forms the scripts do not show.
 */
import { equal, ok } from "node:assert/strict";
import { captureIo, main } from "../lib/cli/main.ts";
import { lockHolders, openLockFile, tryLockFile } from "../mod.ts";
import { otherUserSupport, stageForNobody } from "../examples/_as_user.ts";
import { ipcTaskFlags, tempDir } from "./_helpers.ts";

const mainPath = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const IPC_FLAGS = ipcTaskFlags(); // what a user of the CLI grants, never -A
const IPCKIT_LOCK = [Deno.execPath(), "run", ...IPC_FLAGS, "--no-check", mainPath, "lock"].join(
  " ",
);

/** Each script uses `$FLOCK` for the tool under test and `$D` for a scratch directory. */
const SCRIPTS: Record<string, string> = {
  "command and its exit code": `$FLOCK "$D/a" sh -c 'echo hello; exit 7'; echo "rc=$?"`,
  "-c through the shell": `$FLOCK "$D/a" -c 'echo via shell; exit 3'; echo "rc=$?"`,
  "--command spelled long": `$FLOCK "$D/a" --command 'echo long form'; echo "rc=$?"`,
  "the fd form in a subshell": `
    ( $FLOCK -n 9 || exit 1; echo inside; flock -n "$D/b" true; echo "other=$?" ) 9>"$D/b"
    echo "rc=$?"
    flock -n "$D/b" true; echo "after=$?"`,
  "the fd form when the lock is taken": `
    exec 8>"$D/b2"; flock 8
    ( $FLOCK -n 9 || exit 1; echo never ) 9>"$D/b2"; echo "rc=$?"
    ( $FLOCK -n -E 42 9 || exit $?; echo never ) 9>"$D/b2"; echo "rc=$?"`,
  "conflicts, -E, -w and -u on a descriptor": `
    exec 8>"$D/c"; flock 8
    $FLOCK -n "$D/c" true; echo "busy=$?"
    $FLOCK -E 7 -n "$D/c" true; echo "E=$?"
    $FLOCK --conflict-exit-code=8 --nonblock "$D/c" true; echo "E-long=$?"
    $FLOCK -w 0.2 "$D/c" true; echo "w=$?"
    $FLOCK -w .2 -E 9 "$D/c" true; echo "wE=$?"
    $FLOCK -w 0 "$D/c" true; echo "w0=$?"
    $FLOCK -s -n "$D/c" true; echo "shared=$?"
    $FLOCK -u 8; echo "unlock=$?"
    $FLOCK -n "$D/c" echo free; echo "after-unlock=$?"`,
  "shared locks coexist": `
    exec 8>"$D/s"; flock -s 8
    $FLOCK -s -n "$D/s" echo shared-ok; echo "rc=$?"
    $FLOCK --shared --nb "$D/s" echo prefix-ok; echo "rc=$?"
    $FLOCK -x -n "$D/s" true; echo "exclusive=$?"
    $FLOCK -sn "$D/s" echo cluster-ok; echo "rc=$?"`,
  "directories are locked": `
    mkdir "$D/dir"
    $FLOCK "$D/dir" echo dir-locked; echo "rc=$?"
    $FLOCK -n "$D/dir" -c 'flock -n "$0" true; echo inner=$?' 2>/dev/null
    $FLOCK -n "$D/dir" sh -c 'flock -n "$1" true; echo inner=$?' sh "$D/dir"`,
  "a missing command": `$FLOCK "$D/a" no-such-command-xyz; echo "rc=$?"`,
  "a command that is not executable": `
    printf 'echo hi\\n' > "$D/noexec"; chmod 644 "$D/noexec"
    $FLOCK "$D/a" "$D/noexec"; echo "rc=$?"`,
  "death by a signal": `$FLOCK "$D/a" sh -c 'kill -TERM $$'; echo "rc=$?"`,
  "-o and the inherited lock": `
    $FLOCK -o "$D/d" sh -c 'flock -n "$1" true; echo closed=$?' sh "$D/d"
    $FLOCK "$D/d" sh -c 'flock -n "$1" true; echo kept=$?' sh "$D/d"`,
  "-F runs the command in place": `
    $FLOCK -F "$D/a" -c 'echo no-fork; exit 5'; echo "rc=$?"
    $FLOCK --no-fork "$D/a" sh -c 'flock -n "$1" true; echo held=$?' sh "$D/a"
    $FLOCK -F "$D/a" no-such-command-xyz; echo "rc=$?"`,
  "--verbose": `
    $FLOCK --verbose "$D/a" true; echo "rc=$?"
    exec 8>"$D/v"; flock 8
    $FLOCK --verbose -n "$D/v" true; echo "rc=$?"
    $FLOCK --verb -w 0.1 "$D/v" true; echo "rc=$?"`,
  "a lock file it cannot open": `$FLOCK "$D/no/such/dir/x" true; echo "rc=$?"`,
  "a descriptor that is not open": `$FLOCK 77; echo "rc=$?"`,
  "new lock files are 0644 under umask 022": `umask 022; $FLOCK "$D/new" true; stat -c %a "$D/new"`,
  "-- before FILE ends the options": `$FLOCK -n -- "$D/a" echo dashdash; echo "rc=$?"`,
};

async function run(script: string, flock: string, dir: string) {
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    env: { FLOCK: flock, D: dir, SHELL: "/bin/sh" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const norm = (b: Uint8Array) =>
    new TextDecoder().decode(b)
      .replaceAll(dir, "$D")
      .replace(/^(flock|ipckit): /gm, "PROG: ")
      .replace(/took \d+\.\d+ seconds/g, "took N seconds");
  return { code: out.code, stdout: norm(out.stdout), stderr: norm(out.stderr) };
}

/** Messages that legitimately differ beyond the program name: the open error's wording. */
function comparableStderr(name: string, text: string): string {
  return name === "a lock file it cannot open" || name === "a descriptor that is not open"
    ? text.split("\n").map((l) => l.replace(/: .*$/, ": ...")).join("\n")
    : text;
}

for (const [name, script] of Object.entries(SCRIPTS)) {
  Deno.test(`ipckit lock behaves as flock(1): ${name}`, async () => {
    using a = tempDir();
    using b = tempDir();
    const want = await run(script, "flock", a.path);
    const got = await run(script, IPCKIT_LOCK, b.path);
    equal(got.stdout, want.stdout, `stdout (stderr: ${got.stderr})`);
    equal(
      comparableStderr(name, got.stderr),
      comparableStderr(name, want.stderr),
      "stderr",
    );
    equal(got.code, want.code, "exit code");
  });
}

async function ipckit(args: string[]) {
  const io = captureIo();
  const code = await main(args, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

Deno.test("ipckit lock FD locks and unlocks the descriptor it is given, and leaves it open", async () => {
  using dir = tempDir();
  const path = `${dir.path}/fd`;
  using f = openLockFile(path, { create: true });
  const fdNumber: number = f.fd;
  equal((await ipckit(["lock", "-n", String(fdNumber)])).code, 0);
  equal(lockHolders(path).length, 1, "the lock stays with the descriptor");
  equal(Deno.readLinkSync(`/proc/self/fd/${fdNumber}`), path, "still open");
  equal((await ipckit(["lock", "-u", String(fdNumber)])).code, 0);
  equal(lockHolders(path).length, 0);
  const bad = await ipckit(["lock", "-n", "987"]);
  equal(bad.code, 65, bad.stderr);
  equal(bad.stderr, "ipckit: 987: bad file descriptor\n");
});

Deno.test("ipckit lock creates 0644 whatever the umask (flock(1) applies it); --mode; --help", async () => {
  using dir = tempDir();
  // In a child: the umask is process-wide, and test files may share a process.
  const r = await run(`umask 002; $FLOCK "$D/u" true`, IPCKIT_LOCK, dir.path);
  equal(r.code, 0, r.stderr);
  equal(Deno.statSync(`${dir.path}/u`).mode! & 0o777, 0o644, "not group-writable under umask 002");
  equal((await ipckit(["lock", `${dir.path}/u`, "true"])).code, 0, "so the next run trusts it");
  equal((await ipckit(["lock", "--mode", "0600", `${dir.path}/m`, "true"])).code, 0);
  equal(Deno.statSync(`${dir.path}/m`).mode! & 0o777, 0o600);
  equal((await ipckit(["lock", "--timeout", "100", `${dir.path}/t`, "true"])).code, 0);
  const help = await ipckit(["lock", "--help"]);
  equal(help.code, 0);
  ok(help.stdout.startsWith("Usage: ipckit lock [options] FILE|DIRECTORY COMMAND"), help.stdout);
  const v = await ipckit(["lock", "-V"]);
  equal(v.code, 0);
  ok(v.stdout.startsWith("ipckit lock from ipckit "), v.stdout);
});

Deno.test({
  name: "a lock file ipckit lock created (0644) is shared with another user, as with flock(1)",
  ignore: !otherUserSupport().ok,
  async fn() {
    using dir = tempDir();
    Deno.chmodSync(dir.path, 0o755);
    const path = `${dir.path}/shared.lock`;
    using stage = stageForNobody();
    const asNobody = async (args: string[]) => {
      const [exe, ...rest] = stage.command([
        "run",
        ...IPC_FLAGS,
        "--no-check",
        stage.path("lib/cli/main.ts"),
        "lock",
        ...args,
      ]);
      const out = await new Deno.Command(exe, {
        args: rest,
        env: stage.env,
        cwd: stage.dir,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    equal((await ipckit(["lock", path, "true"])).code, 0);
    equal(Deno.statSync(path).mode! & 0o777, 0o644);
    const free = await asNobody(["-n", path, "true"]);
    equal(free.code, 0, free.stderr);
    using _held = tryLockFile(path)!;
    const busy = await asNobody(["-n", path, "true"]);
    equal(busy.code, 1, busy.stderr);
  },
});
