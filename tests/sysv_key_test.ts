import { equal, throws } from "node:assert/strict";
import { formatSysvKey, ftok, IpcError, parseSysvKey } from "../mod.ts";
import { tempDir } from "./_helpers.ts";
import { runPeer } from "./_sysv.ts";

function code(c: string) {
  return (e: unknown) => e instanceof IpcError && e.code === c;
}

Deno.test("ftok() gives the same key as C's ftok for the same path and project", async () => {
  using dir = tempDir();
  const path = `${dir.path}/anchor`;
  Deno.writeTextFileSync(path, "");
  for (const proj of [1, 65, 255]) {
    const c = await runPeer(["ftok", path, String(proj)]);
    equal(formatSysvKey(ftok(path, proj)), c.out);
  }
});

Deno.test("ftok() rejects a project id outside 1..255 and a missing path", () => {
  throws(() => ftok("/tmp", 0), code("EINVAL"));
  throws(() => ftok("/tmp", 256), code("EINVAL"));
  throws(() => ftok("/tmp", 1.5), code("EINVAL"));
  throws(() => ftok("", 1), code("EINVAL"));
  throws(
    () => ftok("/no/such/ipckit/path", 1),
    (e) => e instanceof Deno.errors.NotFound && code("ENOENT")(e),
  );
});

Deno.test("parseSysvKey() reads ipcs hex and signed or unsigned decimal", () => {
  equal(parseSysvKey("0x0000abcd"), 0xabcd);
  equal(parseSysvKey("0XFFFFFFFF"), 0xffffffff);
  equal(parseSysvKey("-1"), 0xffffffff);
  equal(parseSysvKey("4294967295"), 0xffffffff);
  equal(formatSysvKey(parseSysvKey("-2147483648")), "0x80000000");
  for (const bad of ["", "0x", "0x123456789", "4294967296", "12a", "1e3"]) {
    throws(() => parseSysvKey(bad), code("EINVAL"), bad);
  }
});
