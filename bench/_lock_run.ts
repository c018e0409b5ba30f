// Uncontended lock+unlock loops measured inside one Deno process:
// _lock_run.ts PATH ipckit-flock|ipckit-ofd|deno N -> µs per lock+unlock.
import { openLockFile } from "../mod.ts";

const [path, mode, nText] = Deno.args;
const n = Number(nText);
let per: number;
if (mode === "deno") {
  using f = Deno.openSync(path, { read: true, write: true, create: true });
  for (let i = 0; i < 1000; i++) (f.lockSync(true), f.unlockSync());
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    f.lockSync(true);
    f.unlockSync();
  }
  per = (performance.now() - t0) * 1000 / n;
} else {
  using file = openLockFile(path, { create: true });
  const req = mode === "ipckit-ofd" ? { start: 0, length: 16 } : {};
  for (let i = 0; i < 1000; i++) file.tryLock(req)!.release();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) file.tryLock(req)!.release();
  per = (performance.now() - t0) * 1000 / n;
}
console.log(per.toFixed(4));
