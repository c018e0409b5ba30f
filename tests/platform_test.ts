import { equal, ok, throws } from "node:assert/strict";
import { UnsupportedPlatformError } from "../mod.ts";
import { resolve, supportedArch } from "../ffi/platform.ts";
import { unistdConstants } from "../ffi/unistd.ts";

Deno.test("supportedArch() accepts Linux x86_64 and aarch64 with glibc", () => {
  equal(
    supportedArch({ os: "linux", arch: "x86_64", target: "x86_64-unknown-linux-gnu" }),
    "x86_64",
  );
  equal(
    supportedArch({ os: "linux", arch: "aarch64", target: "aarch64-unknown-linux-gnu" }),
    "aarch64",
  );
});

Deno.test("supportedArch() refuses every other platform with UnsupportedPlatformError", () => {
  const refused = [
    { os: "darwin", arch: "aarch64", target: "aarch64-apple-darwin" },
    { os: "windows", arch: "x86_64", target: "x86_64-pc-windows-msvc" },
    { os: "linux", arch: "riscv64", target: "riscv64gc-unknown-linux-gnu" },
    { os: "linux", arch: "x86_64", target: "x86_64-unknown-linux-musl" },
  ] as const;
  for (const build of refused) {
    throws(() => supportedArch(build as never), (e) => {
      ok(e instanceof UnsupportedPlatformError);
      equal((e as UnsupportedPlatformError).target, build.target);
      ok((e as Error).message.includes("supports Linux x86_64 and aarch64 with glibc"));
      return true;
    });
  }
});

Deno.test("resolve() applies per-arch overrides over the common table", () => {
  equal(resolve(unistdConstants, "x86_64").O_DIRECTORY, 0x10000);
  equal(resolve(unistdConstants, "aarch64").O_DIRECTORY, 0x4000);
  equal(resolve(unistdConstants, "aarch64").O_NONBLOCK, 0x800);
});

Deno.test("without --allow-ffi the first call says which permission is missing", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-check", new URL("./fixtures/no_ffi.ts", import.meta.url).pathname],
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  ok(text.startsWith("NotCapable true"), text);
  ok(text.includes("--allow-ffi"), text);
});
