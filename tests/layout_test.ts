/**
 * Checks every constant and struct layout in ffi/ against the real C headers:
 * generates a C probe from the tables, compiles it with gcc and compares what
 * it prints. For aarch64 the probe is cross-compiled and run under
 * qemu-aarch64 (Debian's gcc-aarch64-linux-gnu, libc6-dev-arm64-cross,
 * qemu-user, which `.ci/run` installs).
 */
import { deepEqual as assertEquals } from "node:assert/strict";
import { areas } from "../ffi/tables.ts";
import type { Layout } from "../ffi/struct.ts";
import { type Arch, resolve } from "../ffi/platform.ts";
import { tempDir } from "./_helpers.ts";

function probeSource(): string {
  const headers = new Set<string>(["stdio.h", "stddef.h"]);
  const preludes: string[] = [];
  const body: string[] = [];
  for (const area of Object.values(areas)) {
    for (const h of area.headers) headers.add(h);
    if (area.prelude) preludes.push(area.prelude);
    const consts = new Set([
      ...Object.keys(area.constants.common),
      ...Object.keys(area.constants.x86_64 ?? {}),
      ...Object.keys(area.constants.aarch64 ?? {}),
    ]);
    for (const c of consts) body.push(`  printf("const ${c} %lld\\n", (long long)(${c}));`);
    const layouts = area.layouts;
    if (!layouts) continue;
    const merged = { ...layouts.common, ...layouts.x86_64, ...layouts.aarch64 } as Record<
      string,
      Layout
    >;
    for (const [name, l] of Object.entries(merged)) {
      body.push(`  printf("size ${name} %zu\\n", sizeof(${l.c}));`);
      for (const f of Object.keys(l.fields)) {
        body.push(
          `  printf("field ${name}.${f} %zu %zu\\n", offsetof(${l.c}, ${f}), sizeof(((${l.c} *)0)->${f}));`,
        );
      }
    }
  }
  return [
    "#define _GNU_SOURCE",
    ...[...headers].map((h) => `#include <${h}>`),
    ...preludes,
    "int main(void) {",
    ...body,
    "  return 0;",
    "}",
  ].join("\n");
}

function expected(arch: Arch): string[] {
  const out: string[] = [];
  for (const area of Object.values(areas)) {
    for (const [k, v] of Object.entries(resolve(area.constants, arch))) out.push(`const ${k} ${v}`);
    if (!area.layouts) continue;
    for (const [name, l] of Object.entries(resolve(area.layouts, arch))) {
      out.push(`size ${name} ${l.size}`);
      for (const [f, [o, w]] of Object.entries(l.fields)) out.push(`field ${name}.${f} ${o} ${w}`);
    }
  }
  return out.sort();
}

async function runProbe(cc: string, runner: string[]): Promise<string[]> {
  using dir = tempDir();
  const src = `${dir.path}/probe.c`;
  const bin = `${dir.path}/probe`;
  Deno.writeTextFileSync(src, probeSource());
  const built = await new Deno.Command(cc, { args: ["-o", bin, src], stderr: "piped" }).output();
  if (!built.success) throw new Error(new TextDecoder().decode(built.stderr));
  const [head, ...rest] = [...runner, bin];
  const ran = await new Deno.Command(head, { args: rest, stdout: "piped" }).output();
  assertEquals(ran.code, 0);
  return new TextDecoder().decode(ran.stdout).trim().split("\n").sort();
}

function have(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync()
      .success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "ffi tables match the x86_64 glibc headers",
  ignore: Deno.build.arch !== "x86_64",
  async fn() {
    assertEquals(expected("x86_64"), await runProbe("gcc", []));
  },
});

const crossReady = have("aarch64-linux-gnu-gcc") && have("qemu-aarch64");

Deno.test({
  name: "ffi tables match the aarch64 glibc headers (cross-compiled, run under qemu)",
  // CI installs the cross tools; a developer machine without them skips.
  ignore: !crossReady && Deno.env.get("CI") !== "true",
  async fn() {
    const runner = Deno.build.arch === "aarch64"
      ? []
      : ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"];
    const cc = Deno.build.arch === "aarch64" ? "gcc" : "aarch64-linux-gnu-gcc";
    assertEquals(expected("aarch64"), await runProbe(cc, runner));
  },
});
