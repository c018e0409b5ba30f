/**
 * Lock and pid files in a sticky, world-writable directory (a `/tmp` of its
 * own) where another uid has planted a symlink or a file: nothing is
 * followed, written or truncated. The planting needs root (to act as another
 * uid); without it the tests are skipped with the reason printed.
 */
import { equal, ok, rejects, throws } from "node:assert/strict";
import { IpcError, lockFile, openLockFile, singleInstance, tryLockFile } from "../mod.ts";
import { NOBODY, otherUserSupport, stageForNobody } from "../examples/_as_user.ts";
import { tempDir } from "./_helpers.ts";

const support = otherUserSupport();
const ignore = !support.ok;
if (!support.ok) console.log(`skipping planted-file tests: ${support.reason}`);

/** The uid that plants things (not this user, not nobody). */
const PLANTER = 1;

function isIpc(code: string) {
  return (e: unknown) => {
    ok(e instanceof IpcError, `not an IpcError: ${e}`);
    equal((e as IpcError).code, code, (e as Error).message);
    return true;
  };
}

/** Runs `script` as uid {@linkcode PLANTER} with `sh -c`. */
async function asPlanter(script: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("setpriv", {
    args: [
      `--reuid=${PLANTER}`,
      `--regid=${PLANTER}`,
      "--clear-groups",
      "sh",
      "-c",
      script,
      "sh",
      ...args,
    ],
    stderr: "piped",
  }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

/** A temp dir with a sticky, world-writable `tmp/` inside, like `/tmp`. */
function stickyDir() {
  const dir = tempDir();
  Deno.chmodSync(dir.path, 0o755);
  const tmp = `${dir.path}/tmp`;
  Deno.mkdirSync(tmp);
  Deno.chmodSync(tmp, 0o1777);
  return { dir, tmp };
}

/** A root-owned file outside the sticky dir that a planted link points at. */
function victim(dir: string): { path: string; unchanged(): void } {
  const path = `${dir}/victim`;
  Deno.writeTextFileSync(path, "precious contents\n");
  Deno.chmodSync(path, 0o644);
  const before = Deno.statSync(path);
  return {
    path,
    unchanged() {
      equal(Deno.readTextFileSync(path), "precious contents\n", "the victim was written");
      equal(Deno.statSync(path).mtime?.getTime(), before.mtime?.getTime());
    },
  };
}

Deno.test({
  name: "a planted symlink is never followed by singleInstance() or the lock verbs (ELOOP)",
  ignore,
  async fn() {
    const { dir, tmp } = stickyDir();
    using _d = dir;
    const target = victim(dir.path);
    const link = `${tmp}/job.pid`;
    await asPlanter(`ln -s "$1" "$2"`, target.path, link);
    throws(() => singleInstance(link), isIpc("ELOOP"));
    throws(() => singleInstance(link, { trust: "any" }), isIpc("ELOOP"));
    await rejects(lockFile(link), isIpc("ELOOP"));
    throws(() => tryLockFile(link, { trust: "any" }), isIpc("ELOOP"));
    throws(() => openLockFile(link, { create: true, trust: "any" }), isIpc("ELOOP"));
    target.unchanged();
    ok(Deno.lstatSync(link).isSymlink, "the link is left alone");
    // A dangling link is not created through either.
    const dangling = `${tmp}/dangling.pid`;
    await asPlanter(`ln -s "$1" "$2"`, `${dir.path}/created-through-link`, dangling);
    throws(() => singleInstance(dangling), isIpc("ELOOP"));
    throws(() => Deno.statSync(`${dir.path}/created-through-link`), Deno.errors.NotFound);
  },
});

Deno.test({
  name: "a file another uid planted is neither written nor truncated by singleInstance()",
  ignore,
  async fn() {
    const { dir, tmp } = stickyDir();
    using _d = dir;
    const path = `${tmp}/job.pid`;
    await asPlanter(`printf '4242\\n' > "$1"; chmod 0644 "$1"`, path);
    throws(() => singleInstance(path), isIpc("EPERM"), "untrusted owner");
    await rejects(lockFile(path), isIpc("EPERM"), "the lock verbs apply the trust rule too");
    throws(() => openLockFile(path, { create: true }), isIpc("EPERM"));
    throws(() => singleInstance(path, { trust: "any" }), isIpc("EPERM"), "foreign: never written");
    equal(Deno.readTextFileSync(path), "4242\n");
    const open = `${tmp}/open.pid`;
    await asPlanter(`printf '4343\\n' > "$1"; chmod 0666 "$1"`, open);
    throws(() => singleInstance(open), isIpc("EPERM"));
    throws(() => singleInstance(open, { trust: "any" }), isIpc("EPERM"));
    equal(Deno.readTextFileSync(open), "4343\n");
    // Locking it without writing is what trust: "any" is for.
    using lock = tryLockFile(open, { trust: "any" });
    ok(lock?.held);
    equal(Deno.readTextFileSync(open), "4343\n");
    // trustedUids lets singleInstance use a file that uid owns.
    lock?.release();
    {
      using inst = singleInstance(path, { trustedUids: [PLANTER] });
      equal(inst.stalePid, 4242);
    }
  },
});

Deno.test({
  name: "singleInstance() refuses a hard link or a file that is not a pid file (EPERM), untouched",
  ignore,
  fn() {
    const { dir, tmp } = stickyDir();
    using _d = dir;
    const target = victim(dir.path);
    const hard = `${tmp}/hard.pid`;
    Deno.linkSync(target.path, hard);
    throws(() => singleInstance(hard), isIpc("EPERM"));
    target.unchanged();
    const notPid = `${tmp}/config`;
    Deno.writeTextFileSync(notPid, "key = value\n");
    Deno.chmodSync(notPid, 0o600);
    throws(() => singleInstance(notPid), isIpc("EPERM"));
    equal(Deno.readTextFileSync(notPid), "key = value\n");
  },
});

Deno.test({
  name: "as nobody, singleInstance() never writes into a root-owned file, even with trust: 'any'",
  ignore,
  async fn() {
    const { dir, tmp } = stickyDir();
    using _d = dir;
    const path = `${tmp}/root.pid`;
    Deno.writeTextFileSync(path, "1\n");
    Deno.chmodSync(path, 0o666); // writable by nobody: only the trust rule stands in the way
    using stage = stageForNobody();
    const script = stage.path("probe.ts");
    Deno.writeTextFileSync(
      script,
      `import { singleInstance } from "./mod.ts";
for (const trust of ["owner", "any"] as const) {
  try {
    singleInstance(${JSON.stringify(path)}, { trust });
    console.log(trust, "written");
  } catch (e) {
    console.log(trust, (e as { code?: string }).code);
  }
}
const own = ${JSON.stringify(`${tmp}/nobody.pid`)};
const inst = singleInstance(own);
console.log("own", Deno.readTextFileSync(own).trim() === String(Deno.pid));
inst.release();
`,
    );
    Deno.chmodSync(script, 0o644);
    const [exe, ...args] = stage.command([
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      script,
    ]);
    const out = await new Deno.Command(exe, {
      args,
      env: stage.env,
      cwd: stage.dir,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    equal(text, "owner EPERM\nany EPERM\nown true\n");
    equal(Deno.readTextFileSync(path), "1\n", "the root-owned file is untouched");
    equal(Deno.statSync(`${tmp}/nobody.pid`).uid, NOBODY);
  },
});
