/**
 * A cron job that refuses to overlap with itself: the second copy started
 * while the first still runs says so and exits 0 (so cron does not mail an
 * error); a copy started after a crashed run reports the stale pid.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-write examples/cron_no_overlap.ts /tmp/job.lock 2000
 * ```
 *
 * Same thing from a crontab line with the CLI (flock(1)-compatible):
 * `ipckit lock -n /tmp/job.lock -- ./job.sh`.
 *
 * @module
 */
import { IpcError, singleInstance } from "../mod.ts";

const [path = "/tmp/ipckit-cron-example.lock", workMs = "1000"] = Deno.args;

let instance;
try {
  instance = singleInstance(path);
} catch (e) {
  if (e instanceof IpcError && e.code === "EBUSY") {
    console.log(`skipped: ${e.message}`);
    Deno.exit(0);
  }
  throw e;
}
using _instance = instance;
if (instance.stalePid !== null) console.log(`previous run (pid ${instance.stalePid}) died`);
console.log("working");
await new Promise((r) => setTimeout(r, Number(workMs)));
console.log("done");
