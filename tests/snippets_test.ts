/**
 * Every TypeScript snippet in README.md and docs/*.md runs, twice in a row,
 * with the permissions the README lists for the library: a snippet that only
 * type-checks, needs a flag the README does not name, or leaves an object
 * behind that makes its second run fail (EEXIST) fails here. Blocks fenced
 * as ```ts ignore are shown, not run (and are type-checked by `deno task
 * check` like every other block).
 */
import { equal } from "node:assert/strict";

const root = new URL("..", import.meta.url);
const FLAGS = ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env", "--allow-run"];

interface Snippet {
  file: string;
  line: number;
  code: string;
}

function snippets(file: string): Snippet[] {
  const text = Deno.readTextFileSync(new URL(file, root));
  const out: Snippet[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript)(\s.*)?$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    if (!/\bignore\b/.test(open[2] ?? "")) {
      out.push({ file, line: start, code: lines.slice(start, end).join("\n") });
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

for (const file of files) {
  for (const s of snippets(file)) {
    Deno.test(`${file}:${s.line} snippet runs twice with the README's flags`, async () => {
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
