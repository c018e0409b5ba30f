/**
 * Run after the whole suite (by `deno task test`): fails if a test left a
 * POSIX object whose name marks it as a test's (`ipckit-test-*`), any System
 * V object at all, or a test directory in the temp dir. Objects are listed
 * with ipckit's own lister, which also sees message queues when /dev/mqueue
 * is not mounted (through a private mqueue mount, as root).
 */
import { listingNotes, listIpcObjects } from "../mod.ts";

const left: string[] = [];
for (const o of listIpcObjects()) {
  if (o.kind.startsWith("sysv-")) left.push(`${o.kind} id ${o.id} key ${o.key} (${o.owner})`);
  else if (o.name?.includes("ipckit-test")) left.push(`${o.kind} ${o.name}`);
}
const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
for (const e of Deno.readDirSync(tmp)) {
  if (e.name.startsWith("ipckit-test-")) left.push(`${tmp}/${e.name}`);
}
for (const note of listingNotes()) console.error(`leak check: note: ${note}`);
if (left.length) {
  console.error(`IPC objects left behind by the test suite:\n  ${left.join("\n  ")}`);
  Deno.exit(1);
}
console.log("leak check: no IPC objects left behind");
