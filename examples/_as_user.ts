/**
 * Running part of an example or test as another, less privileged user
 * (`nobody`), the way a shared host has them, from any checkout.
 *
 * The other user usually cannot read the checkout (a clone in a 0700 home)
 * nor run the Deno binary (npx keeps it under the invoking user's home). So
 * the pieces that side needs are staged in a fresh directory it can read: a
 * hard link (or copy) of the running Deno, a copy of `mod.ts`, `deno.json`,
 * `lib/`, `ffi/` and any further files, and a Deno cache it owns. The
 * directory is removed when the stage is disposed.
 *
 * Only root can start a process as another user: {@linkcode otherUserSupport}
 * says whether this process can, and why not.
 *
 * @module
 */
import { cpSync } from "node:fs";

/** The uid and gid of `nobody`. */
export const NOBODY = 65534;

const root = new URL("..", import.meta.url).pathname;

/** Whether this process can run a child as `nobody`, and if not, why. */
export function otherUserSupport(): { ok: true } | { ok: false; reason: string } {
  if (Deno.uid() !== 0) {
    return {
      ok: false,
      reason: `needs root to start a process as nobody (running as uid ${Deno.uid()})`,
    };
  }
  try {
    Deno.statSync("/usr/bin/setpriv");
  } catch {
    return { ok: false, reason: "needs util-linux's setpriv" };
  }
  return { ok: true };
}

/** A directory `nobody` can read, with Deno and the files it needs. */
export interface Stage extends Disposable {
  /**
   * The staged directory (mode 0755). Start the child here (`cwd`): a
   * working directory it cannot enter makes Deno fail to start programs.
   */
  readonly dir: string;
  /** The Deno binary `nobody` can run. */
  readonly deno: string;
  /** Environment for the child: its own Deno cache and home. */
  readonly env: Record<string, string>;
  /** The staged copy of a checkout-relative path (`"examples/x.ts"`). */
  path(relative: string): string;
  /** `setpriv` + Deno + `args`, as `nobody`: the argv to spawn. */
  command(args: string[]): string[];
}

/**
 * Stages Deno, the library and `extra` checkout-relative files or
 * directories for `nobody`. Dispose the result to remove it.
 */
export function stageForNobody(extra: string[] = []): Stage {
  const dir = Deno.makeTempDirSync({ prefix: "ipckit-test-nobody-" });
  try {
    Deno.chmodSync(dir, 0o755);
    const deno = `${dir}/deno`;
    try {
      Deno.linkSync(Deno.execPath(), deno); // same file system: instant, no space
    } catch {
      Deno.copyFileSync(Deno.execPath(), deno);
      Deno.chmodSync(deno, 0o755);
    }
    for (const rel of ["mod.ts", "deno.json", "lib", "ffi", "examples/_as_user.ts", ...extra]) {
      cpSync(`${root}/${rel}`, `${dir}/${rel}`, { recursive: true });
    }
    chmodReadable(dir);
    const cache = `${dir}/.deno`;
    Deno.mkdirSync(cache);
    Deno.chownSync(cache, NOBODY, NOBODY);
    const env = { DENO_DIR: cache, HOME: cache, NO_COLOR: "1", PATH: "/usr/bin:/bin" };
    return {
      dir,
      deno,
      env,
      path: (relative) => `${dir}/${relative}`,
      command: (args) => [
        "setpriv",
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        "--clear-groups",
        deno,
        ...args,
      ],
      [Symbol.dispose]() {
        Deno.removeSync(dir, { recursive: true });
      },
    };
  } catch (e) {
    Deno.removeSync(dir, { recursive: true });
    throw e;
  }
}

function chmodReadable(path: string): void {
  const st = Deno.lstatSync(path);
  if (st.isSymlink) return;
  if (st.isDirectory) {
    Deno.chmodSync(path, 0o755);
    for (const e of Deno.readDirSync(path)) chmodReadable(`${path}/${e.name}`);
  } else if (path.endsWith("/deno")) {
    // the binary keeps its own mode (a hard link shares it)
  } else {
    Deno.chmodSync(path, (st.mode ?? 0o644) & 0o100 ? 0o755 : 0o644);
  }
}
