/**
 * First contact: what a new user does before anything else. Importing
 * ipckit from another project through the import map `deno task import-map`
 * prints, running the CLI through `bin/ipckit` with only Node's npx on the
 * PATH, and running the library with exactly the flag the README names.
 */
import { equal, match } from "node:assert/strict";
import { tempDir } from "./_helpers.ts";

const root = new URL("..", import.meta.url).pathname;
const dec = new TextDecoder();

async function run(cmd: string, args: string[], options: Deno.CommandOptions = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    ...options,
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("another project imports ipckit by package name through `deno task import-map`", async () => {
  using app = tempDir();
  const map = await run(Deno.execPath(), ["task", "-q", "import-map", app.path], {
    cwd: root,
    env: { INIT_CWD: root },
  });
  equal(map.code, 0, map.stderr);
  Deno.writeTextFileSync(`${app.path}/deno.json`, map.stdout);
  Deno.writeTextFileSync(
    `${app.path}/main.ts`,
    `import { createPipe } from "@ipckit/ipckit/pipe";
import { IpcError } from "@ipckit/ipckit/errors";
import { createMessageQueue } from "@ipckit/ipckit";
using pipe = createPipe();
await pipe.writer.writeAll(new TextEncoder().encode("hi"));
pipe.writer.close();
try { createMessageQueue("no slash"); } catch (e) { console.log((e as IpcError).code); }
console.log(new TextDecoder().decode(await pipe.reader.readAll()));
`,
  );
  const out = await run(Deno.execPath(), ["run", "--allow-ffi", "main.ts"], { cwd: app.path });
  equal(out.code, 0, out.stderr);
  equal(out.stdout, "EINVAL\nhi\n");
});

Deno.test("bin/ipckit runs the CLI for a user who has only npx, also through a symlink", async () => {
  using home = tempDir();
  Deno.mkdirSync(`${home.path}/bin`);
  Deno.symlinkSync(`${root}bin/ipckit`, `${home.path}/bin/ipckit`);
  // No deno on this PATH: /usr/bin has node and npx, and the shim falls back to them.
  const path = `${home.path}/bin:/usr/bin:/bin`;
  const which = await run("sh", ["-c", "command -v deno || echo none"], { env: { PATH: path } });
  equal(which.stdout.trim(), "none", "a deno on the PATH would hide the npx path");
  const out = await run("ipckit", ["version", "--json"], {
    env: { PATH: path, HOME: Deno.env.get("HOME") ?? home.path },
    cwd: home.path,
  });
  equal(out.code, 0, out.stderr);
  match(out.stdout, /"ipckit":"\d+\.\d+\.\d+"/);
});

Deno.test("the library needs only --allow-ffi; without it, one line names the flag", async () => {
  using dir = tempDir();
  const script = `${dir.path}/lib_only.ts`;
  Deno.writeTextFileSync(
    script,
    `import { createMemfd, createPipe, createSocketPair, listIpcObjects } from "${root}mod.ts";
using pipe = createPipe();
const [a, b] = createSocketPair("seqpacket");
a.close(); b.close();
using mem = createMemfd("first-contact", { size: 4096 });
mem.bytes[0] = 1;
console.log(Array.isArray(listIpcObjects({ kind: ["posix-shm", "sysv-shm", "sysv-msg", "sysv-sem"] })));
`,
  );
  const ok = await run(Deno.execPath(), ["run", "--no-check", "--allow-ffi", script]);
  equal(ok.code, 0, ok.stderr);
  equal(ok.stdout, "true\n");
  const denied = await run(Deno.execPath(), ["run", "--no-check", "--no-prompt", script]);
  equal(denied.code, 1);
  match(denied.stderr, /--allow-ffi/);
});

Deno.test("the CLI names a missing permission in one line", async () => {
  using dir = tempDir();
  const cli = `${root}lib/cli/main.ts`;
  const out = await run(Deno.execPath(), [
    "run",
    "--no-check",
    "--no-prompt",
    "--allow-ffi",
    cli,
    "lock",
    `${dir.path}/x.lock`,
    "-c",
    "true",
  ]);
  equal(out.code, 1);
  const lines = out.stderr.trim().split("\n");
  equal(lines.length, 1, out.stderr);
  match(lines[0], /^ipckit: needs --allow-env/);
});

Deno.test("CLI output into a reader that goes away (`| head -c 10`) ends quietly", async () => {
  // Megabytes of output, so the pipe fills and the writes after head exits get EPIPE.
  using dir = tempDir();
  const script = `${dir.path}/many.ts`;
  Deno.writeTextFileSync(
    script,
    `import { main } from "${root}lib/cli/main.ts";
for (let i = 0; i < 3000; i++) if (await main(["ls", "--limits"]) !== 0) Deno.exit(3);`,
  );
  const flags = "--allow-ffi --allow-read --allow-write --allow-env --allow-run";
  const out = await run("bash", [
    "-c",
    `"${Deno.execPath()}" run -q --no-check ${flags} "${script}" | head -c 10 >/dev/null; ` +
    "exit ${PIPESTATUS[0]}",
  ]);
  equal(out.stderr, "");
  equal(out.code, 0);
});
