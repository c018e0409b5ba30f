/**
 * Run after the whole suite (by `deno task test`): fails if any test left a
 * POSIX or System V object whose name or key marks it as ipckit's, or any
 * System V object at all, or a test socket/FIFO directory in the temp dir.
 */
const left: string[] = [];
for (const dir of ["/dev/shm", "/dev/mqueue"]) {
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.includes("ipckit-test")) left.push(`${dir}/${e.name}`);
    }
  } catch { /* not mounted */ }
}
for (const kind of ["msg", "sem", "shm"]) {
  try {
    const lines = Deno.readTextFileSync(`/proc/sysvipc/${kind}`).trim().split("\n").slice(1);
    for (const l of lines) if (l.trim()) left.push(`sysv ${kind}: ${l.trim()}`);
  } catch { /* no sysvipc */ }
}
const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
for (const e of Deno.readDirSync(tmp)) {
  if (e.name.startsWith("ipckit-test-")) left.push(`${tmp}/${e.name}`);
}
if (left.length) {
  console.error(`IPC objects left behind by the test suite:\n  ${left.join("\n  ")}`);
  Deno.exit(1);
}
console.log("leak check: no IPC objects left behind");
