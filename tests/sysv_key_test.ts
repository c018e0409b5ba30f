import { equal, throws } from "node:assert/strict";
import {
  createSysvMessageQueue,
  formatSysvKey,
  ftok,
  IpcError,
  openSysvSemaphoreSet,
  openSysvSharedMemory,
  parseSysvKey,
  sysvIdForKey,
} from "../mod.ts";
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
  equal(parseSysvKey("0XFFFFFFFE"), 0xfffffffe);
  equal(parseSysvKey("-2"), 0xfffffffe);
  equal(parseSysvKey("4294967294"), 0xfffffffe);
  equal(formatSysvKey(parseSysvKey("-2147483648")), "0x80000000");
  // -1 is what a failed ftok() returns: never a key.
  for (const bad of ["", "0x", "0x123456789", "4294967296", "12a", "1e3", "-1", "0xffffffff"]) {
    throws(() => parseSysvKey(bad), code("EINVAL"), bad);
  }
});

Deno.test("key -1 (ftok's failure value) is EINVAL everywhere a key is taken", () => {
  for (const key of [-1, 0xffffffff]) {
    throws(() => createSysvMessageQueue({ key }), code("EINVAL"));
    throws(() => openSysvSemaphoreSet({ key }), code("EINVAL"));
    throws(() => openSysvSharedMemory({ key }), code("EINVAL"));
    throws(() => sysvIdForKey("sysv-msg", key), code("EINVAL"));
  }
});
