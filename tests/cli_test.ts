import { equal, match, ok } from "node:assert/strict";
import { makeFifo, openFifo } from "../mod.ts";
import { runDeno, tempDir } from "./_helpers.ts";

const cli = new URL("../lib/cli/main.ts", import.meta.url);
const ipckit = (...args: string[]) => runDeno(cli, args);

Deno.test("ipckit --help and every subcommand's --help exit 0", async () => {
  for (
    const args of [["--help"], ["fifo", "--help"], ["fifo", "make", "--help"], [
      "fifo",
      "cat",
      "--help",
    ], [
      "fifo",
      "rm",
      "--help",
    ], ["version", "--help"]]
  ) {
    const r = await ipckit(...args);
    equal(r.code, 0, args.join(" "));
    match(r.stdout, /Usage: ipckit/);
  }
});

Deno.test("ipckit usage errors exit 2 with a message on stderr", async () => {
  for (
    const args of [[], ["nope"], ["fifo"], ["fifo", "make"], ["fifo", "make", "/tmp/x", "--bogus"]]
  ) {
    const r = await ipckit(...args);
    equal(r.code, 2, args.join(" "));
    match(r.stderr, /^ipckit: /);
  }
  const badMode = await ipckit("fifo", "make", "/tmp/x", "--mode", "999");
  equal(badMode.code, 2);
  const badTimeout = await ipckit("fifo", "cat", "/tmp/x", "--timeout", "-3");
  equal(badTimeout.code, 2);
});

Deno.test("ipckit fifo make creates a FIFO with the requested mode; errors exit 1", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  equal((await ipckit("fifo", "make", path)).code, 0);
  equal(Deno.lstatSync(path).mode! & 0o7777, 0o600);
  const again = await ipckit("fifo", "make", path);
  equal(again.code, 1);
  equal(again.stderr.trim(), `ipckit: mkfifo "${path}": path already exists (EEXIST)`);
  equal((await ipckit("fifo", "make", `${dir.path}/g`, "--mode", "0640")).code, 0);
  equal(Deno.lstatSync(`${dir.path}/g`).mode! & 0o7777, 0o640);
  equal((await ipckit("fifo", "rm", path)).code, 0);
  equal((await ipckit("fifo", "rm", path)).code, 1);
});

Deno.test("ipckit fifo cat copies a writer's bytes to stdout", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  makeFifo(path);
  const cat = ipckit("fifo", "cat", path, "--timeout", "20000");
  {
    using w = await openFifo(path, "write", { timeout: 20_000 });
    await w.writeAll(new TextEncoder().encode("through the fifo\n"));
  }
  const r = await cat;
  equal(r.code, 0);
  equal(r.stdout, "through the fifo\n");
});

Deno.test("ipckit fifo cat exits 124 when no writer opens in time", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f`;
  makeFifo(path);
  const r = await ipckit("fifo", "cat", path, "--timeout", "200");
  equal(r.code, 124);
  match(r.stderr, /ETIMEDOUT/);
  const missing = await ipckit("fifo", "cat", `${dir.path}/none`);
  equal(missing.code, 1);
  match(missing.stderr, /ENOENT/);
});

Deno.test("ipckit version prints the version from deno.json", async () => {
  const { default: meta } = await import("../deno.json", { with: { type: "json" } });
  const r = await ipckit("version", "--json");
  equal(r.code, 0);
  equal(JSON.parse(r.stdout).ipckit, meta.version);
  ok((await ipckit("version")).stdout.startsWith(`ipckit ${meta.version}`));
});
