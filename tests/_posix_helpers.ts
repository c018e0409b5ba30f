/**
 * Helpers for the POSIX tests: run the child fixture (optionally as the
 * unprivileged user "nobody" through setpriv, with a private copy of the deno
 * binary that nobody can execute), and a C peer.
 *
 * @module
 */
import { buildC } from "./_helpers.ts";

const child = new URL("./fixtures/posix_child.ts", import.meta.url).pathname;

let nobodyDeno: string | undefined;

function denoForNobody(): string {
  if (nobodyDeno) return nobodyDeno;
  const dir = "/tmp/ipckit-nobody-deno";
  const bin = `${dir}/deno`;
  try {
    Deno.statSync(bin);
  } catch {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
    Deno.chmodSync(dir, 0o755);
    const tmp = `${bin}.${Deno.pid}`;
    Deno.copyFileSync(Deno.execPath(), tmp);
    Deno.chmodSync(tmp, 0o755);
    Deno.renameSync(tmp, bin);
  }
  return nobodyDeno = bin;
}

/** The JSON outcome the child prints. */
export interface ChildOutcome {
  ok?: unknown;
  code?: string;
  limit?: string;
  permissionDenied?: boolean;
  message?: string;
}

/** Runs the child fixture `op name [arg]`, as nobody when `asNobody`, with `prefix` (e.g. prlimit). */
export async function runChild(
  args: string[],
  { asNobody = false, prefix = [] as string[] } = {},
): Promise<ChildOutcome> {
  const deno = asNobody ? denoForNobody() : Deno.execPath();
  const base = [deno, "run", "--allow-all", "--no-check", child, ...args];
  const cmd = asNobody
    ? [...prefix, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...base]
    : [...prefix, ...base];
  const env: Record<string, string> = asNobody
    ? { DENO_DIR: "/tmp/ipckit-nobody-deno/cache", HOME: "/tmp", NO_COLOR: "1" }
    : {};
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  try {
    return JSON.parse(text.split("\n").pop()!);
  } catch {
    throw new Error(`child printed ${text}; stderr ${new TextDecoder().decode(out.stderr)}`);
  }
}

let peer: Promise<string> | undefined;

/** The C peer (tests/fixtures/posix_peer.c), built once per test file. */
export function cPeer(): Promise<string> {
  return peer ??= buildC("posix_peer.c");
}
