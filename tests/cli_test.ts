import { deepEqual, equal, match, ok } from "node:assert/strict";
import { createFifo, createSharedMemory, openFifo, removeIpcObject } from "../mod.ts";
import { printable } from "../lib/cli/ls.ts";
import {
  command,
  ipckitInProcess as ipckit,
  ipckitProcess,
  ipcTaskFlags,
  tempDir,
  uniqueName,
} from "./_helpers.ts";

/** `ipckit ... --help` output, and the summaries listed under "Commands:". */
async function helpOf(path: string[]): Promise<{ text: string; commands: [string, string][] }> {
  const r = await ipckit([...path, "--help"]);
  equal(r.code, 0, `${path.join(" ")} --help: ${r.stderr}`);
  const at = r.stdout.indexOf("\nCommands:\n");
  const commands: [string, string][] = at < 0 ? [] : r.stdout.slice(at + 11).split("\n")
    .filter((l) => /^ {2}\S/.test(l))
    .map((l) => {
      const [, name, summary] = /^ {2}(\S+)\s+(.*)$/.exec(l)!;
      return [name, summary];
    });
  return { text: r.stdout, commands };
}

/** Every command path reachable from the top, groups included. */
async function allCommands(): Promise<{ path: string[]; summary: string; group: boolean }[]> {
  const out: { path: string[]; summary: string; group: boolean }[] = [];
  const walk = async (path: string[]) => {
    for (const [name, summary] of (await helpOf(path)).commands) {
      const sub = [...path, name];
      const group = (await helpOf(sub)).commands.length > 0;
      out.push({ path: sub, summary, group });
      if (group) await walk(sub);
    }
  };
  await walk([]);
  return out;
}

/**
 * Top-level groups of other families whose help does not follow the one
 * style yet (summaries as lower-case fragments without a final period, a
 * one-line usage error for an unknown flag). They are being converted in
 * other branches; empty this at merge time (the test fails on a group that
 * is listed here but already conforms).
 */
const KNOWN_PENDING_HELP = new Set<string>([]);

/**
 * A lower-case fragment: it starts with a lower-case word, an acronym
 * ("POSIX shared memory") or a proper noun, never a capitalised sentence.
 */
const FRAGMENT = /^(?:[a-z]|[A-Z0-9]{2,}\b|(?:Unix|Linux|System V)\b)/;

/** Help-style problems of every command, each with the top-level group it belongs to. */
async function helpViolations(): Promise<[string, string][]> {
  const violations: [string, string][] = [];
  for (const { path, summary } of await allCommands()) {
    const name = path.join(" ");
    const push = (message: string) => violations.push([path[0], message]);
    if (!FRAGMENT.test(summary) || /\.$/.test(summary)) {
      push(`${name}: summary "${summary}" is not a lower-case fragment without a period`);
    }
    const { text } = await helpOf(path);
    // A long usage wraps onto lines indented under it (options, or a second form).
    if (!/^Usage: ipckit \S[^\n]*\n(?: {7,}\S[^\n]*\n)*\n[A-Z]/.test(text)) {
      push(`${name}: help is not "Usage: ..." + blank line + sentences`);
    }
    if (/[a-z)]\.\.(\s|$)/.test(text)) push(`${name}: help has a double period`);
    const r = await ipckit([...path, "--no-such-flag"]);
    const lines = r.stderr.trimEnd().split("\n");
    if (r.code !== 2) push(`${name}: an unknown flag exits ${r.code}, not 2`);
    if (r.stdout !== "") push(`${name}: printed to stdout on a usage error`);
    if (
      lines.length !== 2 || !lines[0].startsWith("ipckit: ") ||
      lines[1] !== `Try '${["ipckit", ...path].join(" ")} --help' for more information.`
    ) {
      push(`${name}: a usage error is not one line plus the hint: ${JSON.stringify(r.stderr)}`);
    }
  }
  return violations;
}

Deno.test("every command has one help style and one-line usage errors", async () => {
  const top = await helpOf([]);
  match(top.text, /^Usage: ipckit <command> \[options\]\n\n[A-Z].*\.\n/);
  const all = await helpViolations();
  const open = all.filter(([group]) => !KNOWN_PENDING_HELP.has(group)).map(([, m]) => m);
  if (open.length) throw new Error(`${open.length} help problems:\n  - ${open.join("\n  - ")}`);
  const stale = [...KNOWN_PENDING_HELP].filter((g) => !all.some(([group]) => group === g));
  deepEqual(stale, [], `${stale} follow the style now: remove them from KNOWN_PENDING_HELP`);
});

Deno.test("ipckit usage errors exit 2 with one line in ipckit's words", async () => {
  for (
    const args of [
      [],
      ["nope"],
      ["fifo"],
      ["fifo", "nope"],
      ["fifo", "create"],
      ["fifo", "create", "/tmp/x", "--bogus"],
      ["fifo", "create", "/tmp/x", "--mode", "999"],
      ["fifo", "create", "/tmp/x", "--mode", "abc"],
      ["fifo", "cat", "/tmp/x", "--timeout", "-1"],
      ["fifo", "cat", "/tmp/x", "--timeout", "soon"],
      ["fifo", "rm", "a", "b"],
      ["fifo", "create", ""],
      ["version", "--foo"],
      ["version", "extra"],
      ["ls", "--kind", "nope"],
      ["ls", "extra"],
      ["rm"],
      ["rm", "nope", "x"],
      ["rm", "posix-shm"],
      ["rm", "sysv-shm", "--key", "0"],
      ["rm", "-q", "abc"],
      ["rm", "--all=bogus"],
      ["rm", "-x", "1"],
      ["ls", "--limits", "--kind", "shm"],
      ["sysv", "mk", "sysv-shm", "--size", "-1"],
      ["sysv", "mk", "sysv-shm", "--size", "4q"],
      ["rm", "sysv-shm", "--key", "not-a-key"],
    ]
  ) {
    const r = await ipckit(args);
    const name = JSON.stringify(args);
    equal(r.code, 2, `${name}: ${r.stderr}`);
    equal(r.stdout, "", name);
    const lines = r.stderr.trimEnd().split("\n");
    equal(lines.length, 2, `${name}: ${r.stderr}`);
    match(lines[0], /^ipckit: /, name);
    match(lines[1], /^Try 'ipckit.*--help' for more information\.$/, name);
  }
  const mode = await ipckit(["fifo", "create", "/tmp/x", "--mode", "999"]);
  match(mode.stderr, /^ipckit: --mode must be octal/);
  const timeout = await ipckit(["fifo", "cat", "/tmp/x", "--timeout", "-1"]);
  match(timeout.stderr, /^ipckit: --timeout must be/);
  match(timeout.stderr, /Try 'ipckit fifo cat --help'/);
});

Deno.test("ipckit fifo create makes a FIFO with the requested mode; run-time errors exit 1", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  equal((await ipckit(["fifo", "create", path])).code, 0);
  equal(Deno.lstatSync(path).mode! & 0o7777, 0o600);
  const again = await ipckit(["fifo", "create", path]);
  equal(again.code, 1);
  equal(again.stderr, `ipckit: mkfifo "${path}": path already exists (EEXIST)\n`);
  equal((await ipckit(["fifo", "create", `${dir.path}/g`, "--mode", "0640"])).code, 0);
  equal(Deno.lstatSync(`${dir.path}/g`).mode! & 0o7777, 0o640);
  equal((await ipckit(["fifo", "rm", path])).code, 0);
  const gone = await ipckit(["fifo", "rm", path]);
  equal(gone.code, 1);
  match(gone.stderr, /ENOENT/);
  Deno.writeTextFileSync(`${dir.path}/plain`, "x");
  equal((await ipckit(["fifo", "rm", `${dir.path}/plain`])).code, 1);
  ok(Deno.statSync(`${dir.path}/plain`).isFile);
});

Deno.test("ipckit fifo cat copies a writer's bytes to stdout", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path);
  const cat = ipckit(["fifo", "cat", path, "--timeout", "20000"]);
  {
    using w = await openFifo(path, "write", { timeout: 20_000 });
    await w.writeAll(new TextEncoder().encode("through the fifo\n"));
  }
  const r = await cat;
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "through the fifo\n");
});

Deno.test("ipckit fifo cat exits 124 on timeout, 1 for a missing or untrusted FIFO", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  createFifo(path);
  const r = await ipckit(["fifo", "cat", path, "--timeout", "100"]);
  equal(r.code, 124);
  match(r.stderr, /ETIMEDOUT/);
  equal(r.stderr.trimEnd().split("\n").length, 1);
  const missing = await ipckit(["fifo", "cat", `${dir.path}/none`]);
  equal(missing.code, 1);
  match(missing.stderr, /ENOENT/);
  const open = `${dir.path}/open`;
  createFifo(open, { mode: 0o622 });
  const untrusted = await ipckit(["fifo", "cat", open, "--timeout", "0"]);
  equal(untrusted.code, 1);
  match(untrusted.stderr, /EPERM/);
  const trusted = await ipckit(["fifo", "cat", open, "--timeout", "0", "--any-owner"]);
  equal(trusted.code, 124, "with --any-owner it opens, then times out waiting for a writer");
});

Deno.test("ipckit version prints the version from deno.json; --foo is a usage error", async () => {
  const { default: meta } = await import("../deno.json", { with: { type: "json" } });
  const r = await ipckit(["version", "--json"]);
  equal(r.code, 0);
  equal(JSON.parse(r.stdout).ipckit, meta.version);
  ok((await ipckit(["version"])).stdout.startsWith(`ipckit ${meta.version}`));
  equal((await ipckit(["--version"])).code, 0);
  equal((await ipckit(["version", "--foo"])).code, 2);
});

Deno.test("ipckit ls lists an object in the table and as JSON; rm removes it", async () => {
  const name = `/${uniqueName("ls")}`;
  createSharedMemory(name, { size: 10 }).close();
  try {
    const json = await ipckit(["ls", "--json", "--kind", "posix-shm"]);
    equal(json.code, 0, json.stderr);
    const rec = json.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((o) =>
      o.name === name
    );
    equal(rec?.kind, "posix-shm");
    equal(rec?.size, 10);
    const table = await ipckit(["ls", "--kind", "posix-shm"]);
    equal(table.code, 0);
    match(table.stdout, /^KIND\s+NAME\s+OWNER/);
    ok(table.stdout.split("\n").some((l) => l.startsWith("posix-shm") && l.includes(name)));
    equal((await ipckit(["rm", "posix-shm", name])).code, 0);
  } finally {
    try {
      removeIpcObject("posix-shm", name);
    } catch { /* removed by the test */ }
  }
  const gone = await ipckit(["rm", "posix-shm", name]);
  equal(gone.code, 1);
  match(gone.stderr, /ENOENT/);
});

Deno.test("ipckit ls escapes control characters in names in its table", async () => {
  equal(printable("plain /name"), "plain /name");
  equal(printable("a\nb"), "a\\nb");
  equal(printable("\x1b[31mred"), "\\x1b[31mred");
  equal(printable("tab\there\\"), "tab\\there\\\\");
  equal(printable("\x7f\x9b"), "\\x7f\\x9b");
  const name = `/${uniqueName("evil")}\nposix-shm  fake  root\x1b[2J`;
  createSharedMemory(name, { size: 1 }).close();
  try {
    const table = await ipckit(["ls", "--kind", "posix-shm"]);
    equal(table.code, 0);
    ok(!table.stdout.includes("\x1b"), "no raw ESC reaches the terminal");
    ok(!table.stdout.split("\n").some((l) => l.startsWith("posix-shm  fake")), "no fake row");
    ok(table.stdout.includes(printable(name)));
    const json = await ipckit(["ls", "--json", "--kind", "posix-shm"]);
    ok(json.stdout.split("\n").some((l) => l && JSON.parse(l).name === name));
  } finally {
    removeIpcObject("posix-shm", name);
  }
});

// End to end: a real process with exactly the `ipc` task's permissions.

Deno.test("e2e: lib/cli/main.ts runs with the ipc task's flags and keeps exit codes", async () => {
  deepEqual(ipcTaskFlags().filter((f) => !f.startsWith("--allow-")), []);
  using dir = tempDir();
  const path = `${dir.path}/f`;
  const made = await ipckitProcess(["fifo", "create", path, "--mode", "0640"]);
  equal(made.code, 0, made.stderr);
  equal(Deno.lstatSync(path).mode! & 0o7777, 0o640);
  const late = await ipckitProcess(["fifo", "cat", path, "--timeout", "100", "--any-owner"]);
  equal(late.code, 124, late.stderr);
  const usage = await ipckitProcess(["fifo", "create", path, "--mode", "999"]);
  equal(usage.code, 2);
  equal(usage.stderr.trimEnd().split("\n").length, 2);
});

Deno.test("e2e: `deno task ipc -- ls --json` and `deno task ipc ls --json` both work", async () => {
  const name = `/${uniqueName("task")}`;
  createSharedMemory(name, { size: 3 }).close();
  try {
    const root = new URL("..", import.meta.url).pathname;
    for (const args of [["task", "ipc", "--", "ls", "--json"], ["task", "ipc", "ls", "--json"]]) {
      const out = await command(Deno.execPath(), args, {
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      equal(out.code, 0, `${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
      const names = stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l).name);
      ok(names.includes(name), `${args.join(" ")} lists ${name}`);
    }
  } finally {
    removeIpcObject("posix-shm", name);
  }
});
