/**
 * Helpers for the POSIX tests: run the child fixture (optionally as the
 * unprivileged user "nobody" through setpriv, from a stage nobody can read:
 * see examples/_as_user.ts), and a C peer.
 *
 * @module
 */
import { buildC } from "./_helpers.ts";
import { stageForNobody } from "../examples/_as_user.ts";

const child = new URL("./fixtures/posix_child.ts", import.meta.url).pathname;

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
  // As nobody: from a staged copy nobody can read (the checkout may be in a 0700 home).
  using stage = asNobody ? stageForNobody(["tests/fixtures/posix_child.ts"]) : undefined;
  const run = ["run", "--allow-all", "--no-check"];
  const cmd = stage
    ? [...prefix, ...stage.command([...run, stage.path("tests/fixtures/posix_child.ts"), ...args])]
    : [...prefix, Deno.execPath(), ...run, child, ...args];
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
    env: stage?.env ?? {},
    cwd: stage?.dir,
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
