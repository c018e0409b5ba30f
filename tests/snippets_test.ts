/**
 * Every snippet in README.md and docs/*.md runs, twice in a row: TypeScript
 * with the permissions the README lists, shell with `ipckit` on the PATH
 * (bin/ipckit) in the checkout. A snippet that only type-checks,
 * needs a flag the README does not name, or leaves an object behind that
 * makes its second run fail (EEXIST) fails here. Blocks fenced as
 * ```ts ignore / ```sh ignore are shown, not run: the README's two commands
 * (CI runs them) and the install and import-map steps, which
 * tests/first_contact_test.ts runs on their own; ```text blocks are
 * synopses.
 */
import { equal } from "node:assert/strict";

const root = new URL("..", import.meta.url);
const FLAGS = ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env", "--allow-run"];

interface Snippet {
  file: string;
  line: number;
  code: string;
  shell: boolean;
}

function snippets(file: string): Snippet[] {
  const text = Deno.readTextFileSync(new URL(file, root));
  const out: Snippet[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript|sh|bash)(\s.*)?$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    if (!/\bignore\b/.test(open[2] ?? "")) {
      const code = lines.slice(start, end).join("\n");
      out.push({ file, line: start, code, shell: open[1] === "sh" || open[1] === "bash" });
    }
    i = end;
  }
  return out;
}

const files = [
  "README.md",
  ...[...Deno.readDirSync(new URL("docs/", root))]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort(),
];

// Inside the checkout, so `@ipckit/ipckit` resolves to this package.
const dir = new URL(".cache/snippets/", root);
Deno.mkdirSync(dir, { recursive: true });

/** Runs a shell snippet with `ipckit` (bin/ipckit) and this Deno first on the PATH. */
async function runShell(code: string): Promise<Deno.CommandOutput> {
  const scratch = Deno.makeTempDirSync({ prefix: "ipckit-test-sh-" });
  try {
    Deno.mkdirSync(`${scratch}/bin`);
    Deno.symlinkSync(`${root.pathname}bin/ipckit`, `${scratch}/bin/ipckit`);
    Deno.symlinkSync(Deno.execPath(), `${scratch}/bin/deno`);
    return await new Deno.Command("bash", {
      args: ["-e", "-c", code],
      cwd: root.pathname, // "in a checkout", as the docs say
      stdout: "piped",
      stderr: "piped",
      env: { PATH: `${scratch}/bin:/usr/bin:/bin`, NO_COLOR: "1" },
      signal: AbortSignal.timeout(60_000),
    }).output();
  } finally {
    Deno.removeSync(scratch, { recursive: true });
  }
}

for (const file of files) {
  for (const s of snippets(file)) {
    Deno.test(`${file}:${s.line} snippet runs twice with the README's flags`, async () => {
      if (s.shell) {
        for (const run of [1, 2]) {
          const out = await runShell(s.code);
          const err = new TextDecoder().decode(out.stderr);
          equal(out.code, 0, `run ${run} of ${file}:${s.line} exited ${out.code}:\n${err}`);
        }
        return;
      }
      const path = new URL(
        `${file.replaceAll("/", "_")}-${s.line}-${Deno.pid}.ts`,
        dir,
      );
      Deno.writeTextFileSync(path, s.code + "\n");
      try {
        for (const run of [1, 2]) {
          const out = await new Deno.Command(Deno.execPath(), {
            args: ["run", "-q", "--no-check", ...FLAGS, path.pathname],
            cwd: root.pathname,
            stdout: "piped",
            stderr: "piped",
            env: { NO_COLOR: "1" },
            signal: AbortSignal.timeout(30_000),
          }).output();
          const err = new TextDecoder().decode(out.stderr);
          equal(out.code, 0, `run ${run} of ${file}:${s.line} exited ${out.code}:\n${err}`);
        }
      } finally {
        Deno.removeSync(path);
      }
    });
  }
}
