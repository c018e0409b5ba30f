/**
 * Logging to the system log without a library: one datagram in the syslog
 * format to `/dev/log` (the socket journald or rsyslog reads), as
 * `logger(1)` and `syslog(3)` send it. A connected datagram socket is what
 * Deno's own API cannot make (denoland/deno#14214).
 *
 * Run: deno run --allow-ffi --allow-read --allow-env examples/sock_syslog.ts "hello log"
 *      (SYSLOG_SOCKET=/tmp/log.sock sends somewhere else, e.g. to
 *       `ipckit sock listen /tmp/log.sock --type dgram`)
 */
import { connectUnix } from "../mod.ts";

/** Facility `user` (1) and a severity (0 emerg ... 7 debug), as syslog(3) combines them. */
const USER = 1 << 3;
const NOTICE = 5;

/** One RFC 3164 message, the form logger(1) sends to a local socket (local time, as it does). */
function syslogLine(tag: string, message: string, date = new Date()): string {
  const month = date.toLocaleString("en-US", { month: "short" });
  const day = String(date.getDate()).padStart(2, " ");
  const time = [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((n) => String(n).padStart(2, "0")).join(":");
  return `<${USER | NOTICE}>${month} ${day} ${time} ${tag}[${Deno.pid}]: ${message}`;
}

if (import.meta.main) {
  const target = Deno.env.get("SYSLOG_SOCKET") ?? "/dev/log";
  using log = await connectUnix(target, { type: "dgram", timeout: 1000 });
  await log.send(new TextEncoder().encode(syslogLine("ipckit-example", Deno.args[0] ?? "hi")));
  console.log(`sent to ${target}`);
}
