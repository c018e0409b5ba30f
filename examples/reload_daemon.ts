/**
 * A daemon that reloads its configuration on SIGHUP and shuts down cleanly on
 * SIGTERM or Ctrl-C: the shutdown helper removes the control FIFO it created
 * and exits 143 / 130; a second signal exits at once.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-write examples/reload_daemon.ts /tmp/app.conf &
 * kill -HUP $!    # prints "reloaded: ..."
 * kill -TERM $!   # prints "stopping", removes /tmp/app.conf.ctl, exits 143
 * ```
 *
 * Never signal a Deno process with SIGUSR1: Deno ≥ 2.9.2 opens an
 * unauthenticated inspector on 127.0.0.1:9229 when it gets one.
 *
 * @module
 */
import { createFifo, onShutdown, receiveSignals, removeFifo } from "../mod.ts";

const [configPath = "/tmp/ipckit-daemon-example.conf"] = Deno.args;
const control = `${configPath}.ctl`;

let config = Deno.readTextFileSync(configPath).trim();
createFifo(control);
onShutdown(() => {
  console.log("stopping");
  removeFifo(control);
});

using hangups = receiveSignals(["SIGHUP"]);
console.log(`ready: ${config}`);
for await (const _ of hangups) {
  config = Deno.readTextFileSync(configPath).trim();
  console.log(`reloaded: ${config}`);
}
