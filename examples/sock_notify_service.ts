/**
 * A `Type=notify` service that takes its listening socket from systemd
 * (socket activation) and reports its state: READY, STATUS, the watchdog,
 * STOPPING. Outside systemd it listens on its own and the notifications do
 * nothing, so the same program runs from a shell.
 *
 * Each connection gets back what it sent, upper-cased. `ECHO_CONNECTIONS=N`
 * makes it exit after N connections (for tests). SIGTERM (`systemctl stop`)
 * stops it cleanly: the connection being served is finished, no new one is
 * accepted, and it reports STOPPING and exits 0.
 *
 * Run it the way systemd would, without systemd:
 *   systemd-socket-activate -l /tmp/echo.sock \
 *     deno run --allow-ffi --allow-read --allow-env examples/sock_notify_service.ts
 *   echo hello | nc -U -N /tmp/echo.sock      # HELLO
 * or under systemd with the units in docs/systemd.md.
 */
import { listenFds, listenUnix, notify, UnixListener, watchdog } from "../mod.ts";

const passed = listenFds().find((f) => f.handle instanceof UnixListener);
using server = (passed?.handle as UnixListener | undefined) ??
  listenUnix(Deno.args[0] ?? "@ipckit-echo");
using _dog = watchdog();
const limit = Number(Deno.env.get("ECHO_CONNECTIONS") ?? Infinity);

// Closing the listener ends the loop below after the current connection.
// Installed before READY: systemd may stop the service as soon as it is up.
const stop = () => server.close();
Deno.addSignalListener("SIGTERM", stop);

const ready = await notify({ ready: true, status: `echoing on ${server.address}` });
console.error(
  ready.sent ? `told systemd: ${ready.message.replaceAll("\n", " ")}` : `(${ready.reason})`,
);

let served = 0;
for await (const conn of server) {
  using c = conn;
  const text = new TextDecoder().decode(await c.readAll({ timeout: 5000 }));
  await c.writeAll(new TextEncoder().encode(text.toUpperCase()));
  served++;
  await notify({ status: `served ${served} connection(s)` });
  if (served >= limit) break;
}
await notify({ stopping: true });
Deno.removeSignalListener("SIGTERM", stop);
