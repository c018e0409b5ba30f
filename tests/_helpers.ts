/**
 * Shared test helpers: unique object names, temp dirs that clean up, child
 * processes that say "ready", C peers built with gcc, and leak snapshots of
 * the host's IPC namespaces.
 *
 * @module
 */
import { otherUserSupport, stageForNobody } from "../examples/_as_user.ts";
import { deepEqual as assertEquals } from "node:assert/strict";

let counter = 0;
/**
 * `deno test --parallel` runs test files as workers of ONE process: the pid
 * alone does not tell them apart, so every module instance adds its own tag.
 */
const isolateTag = crypto.randomUUID().slice(0, 8);

/** A name unique to this process, isolate and call: `ipckit-test-<pid>-<tag>-<n>[-suffix]`. */
export function uniqueName(suffix = ""): string {
  return `ipckit-test-${Deno.pid}-${isolateTag}-${++counter}${suffix ? "-" + suffix : ""}`;
}

/** A temp directory removed (recursively) when disposed, also when the test fails. */
export function tempDir(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "ipckit-test-" });
  return {
    path,
    [Symbol.dispose]() {
      Deno.removeSync(path, { recursive: true });
    },
  };
}

/**
 * Command prefix for running binaries built for another arch (for example
 * `qemu-aarch64 -L /usr/aarch64-linux-gnu`), from `IPCKIT_EXEC_PREFIX`.
 */
export function execPrefix(): string[] {
  const p = Deno.env.get("IPCKIT_EXEC_PREFIX");
  return p ? p.split(" ").filter(Boolean) : [];
}

/** A `Deno.Command` for `program args`, honouring {@linkcode execPrefix}. */
export function command(
  program: string,
  args: string[],
  options: Deno.CommandOptions = {},
): Deno.Command {
  const [head, ...rest] = [...execPrefix(), program, ...args];
  return new Deno.Command(head, { ...options, args: rest });
}

/** Args that run a Deno script with all permissions. */
export function denoArgs(script: string | URL, args: string[] = []): [string, string[]] {
  const path = script instanceof URL ? script.pathname : script;
  return [Deno.execPath(), ["run", "--allow-all", "--no-check", path, ...args]];
}

/** Runs a Deno script to completion and returns code, stdout and stderr. */
export async function runDeno(
  script: string | URL,
  args: string[] = [],
  options: Deno.CommandOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [exe, a] = denoArgs(script, args);
  const out = await command(exe, a, { stdout: "piped", stderr: "piped", ...options }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A child process whose stdout lines can be awaited. */
export interface Child extends AsyncDisposable {
  process: Deno.ChildProcess;
  /** Resolves with the next stdout line (rejects if stdout ends first). */
  nextLine(): Promise<string>;
  /** Everything on stderr once the process exits. */
  stderr(): Promise<string>;
}

/**
 * Spawns `program args` with piped stdio and waits until it prints a line
 * equal to `ready` (default `"ready"`). Disposing kills it if still running.
 */
export async function spawnReady(
  program: string,
  args: string[],
  options: Deno.CommandOptions & { ready?: string | null } = {},
): Promise<Child> {
  const { ready = "ready", ...opts } = options;
  const process = command(program, args, {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...opts,
  }).spawn();
  const lines = process.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines());
  const reader = lines.getReader();
  const stderrText = new Response(process.stderr).text();
  const child: Child = {
    process,
    async nextLine() {
      const { value, done } = await reader.read();
      if (done) throw new Error(`child ended before printing a line; stderr: ${await stderrText}`);
      return value;
    },
    stderr: () => stderrText,
    async [Symbol.asyncDispose]() {
      try {
        process.kill("SIGKILL");
      } catch { /* already exited */ }
      await process.status;
      await reader.cancel().catch(() => {});
      await stderrText.catch(() => {});
    },
  };
  if (ready !== null) {
    const first = await child.nextLine();
    if (first !== ready) {
      await child[Symbol.asyncDispose]();
      throw new Error(`expected "${ready}" from child, got "${first}"`);
    }
  }
  return child;
}

/** Splits a text stream into lines. */
export function splitLines(): TransformStream<string, string> {
  let buf = "";
  return new TransformStream({
    transform(chunk, controller) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        controller.enqueue(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    },
    flush(controller) {
      if (buf) controller.enqueue(buf);
    },
  });
}

const cacheDir = new URL("../.cache/c/", import.meta.url).pathname;

/**
 * Compiles a C source file (relative to `tests/fixtures/` or absolute) with
 * gcc into `.cache/c/` and returns the binary's path. Set `IPCKIT_CC` to
 * cross-compile (for example `aarch64-linux-gnu-gcc`).
 */
export async function buildC(source: string | URL, extraFlags: string[] = []): Promise<string> {
  const src = source instanceof URL
    ? source.pathname
    : source.startsWith("/")
    ? source
    : new URL(`./fixtures/${source}`, import.meta.url).pathname;
  const cc = Deno.env.get("IPCKIT_CC") ?? "gcc";
  Deno.mkdirSync(cacheDir, { recursive: true });
  const base = src.split("/").pop()!.replace(/\.c$/, "");
  const out = `${cacheDir}${base}-${
    cc.replaceAll("/", "_")
  }-${Deno.pid}-${isolateTag}-${++counter}`;
  const res = await new Deno.Command(cc, {
    args: ["-O2", "-Wall", "-o", out, src, ...extraFlags, "-lpthread", "-lrt"],
    stderr: "piped",
  }).output();
  if (!res.success) {
    throw new Error(`${cc} ${src} failed:\n${new TextDecoder().decode(res.stderr)}`);
  }
  return out;
}

/**
 * What this test file may leave on the host: POSIX objects named by
 * {@linkcode uniqueName} in this isolate (test files run as workers of one
 * process under `--parallel`, so the pid alone would mix their objects up),
 * and, with `sysv: true`, every System V object. System V objects carry no
 * name, and the System V test files create them in parallel with everything
 * else, so they are left out by default; those files check their own ids
 * (`tests/_sysv.ts`).
 */
export function ipcSnapshot({ sysv = false } = {}): string[] {
  const out: string[] = [];
  const mine = `ipckit-test-${Deno.pid}-${isolateTag}-`;
  const list = (dir: string, tag: string) => {
    try {
      for (const e of Deno.readDirSync(dir)) {
        if (e.name.includes(mine)) out.push(`${tag}:${e.name}`);
      }
    } catch { /* not mounted */ }
  };
  list("/dev/shm", "shm");
  list("/dev/mqueue", "mq");
  for (const kind of sysv ? ["msg", "sem", "shm"] : []) {
    try {
      const lines = Deno.readTextFileSync(`/proc/sysvipc/${kind}`).trim().split("\n").slice(1);
      for (const l of lines) {
        out.push(`sysv-${kind}:${l.trim().split(/\s+/).slice(0, 2).join(":")}`);
      }
    } catch { /* no sysvipc */ }
  }
  return out.sort();
}

/**
 * This process's descriptors whose `/proc/self/fd` link matches `target`
 * (e.g. `"pipe:[1234]"`, a path, `/^anon_inode:\[signalfd\]/`). Test files
 * run as workers of one process under `--parallel`, so a whole-process count
 * races with other files; counting descriptors to one object does not.
 */
export function fdsTo(target: string | RegExp): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      const link = Deno.readLinkSync(`/proc/self/fd/${e.name}`);
      if (typeof target === "string" ? link === target : target.test(link)) {
        out.push(Number(e.name));
      }
    } catch { /* closed meanwhile */ }
  }
  return out;
}

/** What descriptor `fd` of this process refers to (`"pipe:[1234]"`, a path...). */
export function fdTarget(fd: number): string {
  return Deno.readLinkSync(`/proc/self/fd/${fd}`);
}

/** Number of open descriptors of this process (racy under `--parallel`: see {@linkcode fdsTo}). */
export function fdCount(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

/**
 * Asserts that `fn` leaves no new IPC object and no new descriptor behind.
 * Use inside a test around code that creates and removes objects.
 */
export async function assertNoLeaks(fn: () => Promise<void> | void): Promise<void> {
  const before = ipcSnapshot();
  const fds = fdCount();
  await fn();
  assertEquals(ipcSnapshot(), before, "IPC objects leaked");
  assertEquals(fdCount(), fds, "descriptors leaked");
}

/** What one CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `ipckit args` in this process through `main(args, captureIo(stdin))`:
 * the way to test a CLI command in a millisecond.
 */
export async function ipckitInProcess(args: string[], stdin = ""): Promise<CliResult> {
  const { captureIo, main } = await import("../lib/cli/main.ts");
  const io = captureIo(stdin);
  const code = await main(args, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

/**
 * The permission flags of the `ipc` task in deno.json, exactly: end-to-end
 * CLI tests run with these (never `-A`), so a command that needs more than
 * users grant fails here first.
 */
export function ipcTaskFlags(): string[] {
  const json = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  const task: string = json.tasks.ipc;
  const words = task.split(/\s+/);
  const flags = words.slice(words.indexOf("run") + 1).filter((w) => w.startsWith("-"));
  if (flags.some((f) => f === "-A" || f === "--allow-all")) {
    throw new Error(`the ipc task must not grant everything: ${task}`);
  }
  return flags;
}

/**
 * Runs `lib/cli/main.ts args` in a new Deno process with the `ipc` task's
 * flags, feeding it `stdin` when given.
 */
export async function ipckitProcess(args: string[], stdin?: string): Promise<CliResult> {
  const cli = new URL("../lib/cli/main.ts", import.meta.url).pathname;
  const child = command(Deno.execPath(), ["run", ...ipcTaskFlags(), "--no-check", cli, ...args], {
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const otherUser = otherUserSupport();

/**
 * `Deno.test` options for a test that starts a child as `nobody`: ignored
 * unless this process can (root with setpriv), with the reason in the name so
 * the run prints why it was skipped.
 */
export function asNobodyTest(name: string): { name: string; ignore: boolean } {
  return otherUser.ok
    ? { name, ignore: false }
    : { name: `${name} (skipped: ${otherUser.reason})`, ignore: true };
}

/**
 * Runs `script` (a module whose `import ... from "@mod"` means ipckit's
 * mod.ts) as `nobody` from a stage nobody can read, and returns its output.
 */
export async function evalAsNobody(script: string): Promise<Deno.CommandOutput> {
  using stage = stageForNobody();
  const argv = stage.command([
    "eval",
    "--no-check",
    script.replaceAll('"@mod"', JSON.stringify(stage.path("mod.ts"))),
  ]);
  return await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    env: stage.env,
    cwd: stage.dir,
    clearEnv: true,
  }).output();
}

/**
 * Opens what the runtime and the library open once per process (the child
 * process plumbing on the first spawn, the reactor's descriptors on the first
 * wait), so a test that counts descriptors counts only its own.
 */
export async function warmUpDescriptors(): Promise<void> {
  const { createSocketPair } = await import("../mod.ts");
  await new Deno.Command("true").output();
  const [a, b] = createSocketPair();
  setTimeout(() => a.send(new Uint8Array(1)), 1);
  await b.receive({ timeout: 5000 });
  a.close();
  b.close();
}

/**
 * Whether the program `tool` is installed (in /usr/bin, /bin or
 * /usr/local/bin); prints why a test is skipped when it is not.
 */
export function have(tool: string, pkg: string): boolean {
  const found = ["/usr/bin", "/bin", "/usr/local/bin"].some((d) => {
    try {
      Deno.statSync(`${d}/${tool}`);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) console.log(`skipping: ${tool} is not installed (Debian package ${pkg})`);
  return found;
}
