/**
 * `ipckit notify`: `systemd-notify(1)` with the same flags, for scripts run
 * as `Type=notify` services.
 *
 * @module
 */
import { notify, type NotifyState } from "../systemd.ts";
import { createPipe } from "../pipe.ts";
import { statPath } from "../_stat.ts";
import { type Command, EXIT, intFlag, parse, UsageError } from "./_common.ts";

const usage =
  "Usage: ipckit notify [--ready] [--reloading] [--stopping] [--status=TEXT] [--pid[=PID]]\n" +
  "                     [--fd=N]... [--fdname=NAME] [--no-block] [--json] [VARIABLE=VALUE...]\n" +
  "       ipckit notify --booted\n\n" +
  "Tells the service manager about the service's state, as systemd-notify(1) does and with\n" +
  "its flags: READY=1, RELOADING=1 (with MONOTONIC_USEC), STOPPING=1, STATUS=TEXT, MAINPID=PID\n" +
  "(--pid alone or --pid=auto/parent: the calling process; --pid=self: this one), descriptors\n" +
  "to store (--fd, FDSTORE=1, named by --fdname), then each VARIABLE=VALUE. It sends to\n" +
  "$NOTIFY_SOCKET (a path or @name) and then, unless --no-block, waits up to 5 s until the\n" +
  "manager has read it (BARRIER=1). Without $NOTIFY_SOCKET it sends nothing, says so and\n" +
  "exits 1, like systemd-notify. --booted exits 0 if the system runs systemd, 1 if not.\n" +
  "--json prints what was sent as one record.";

function pidValue(value: string): number {
  if (value === "auto" || value === "parent") return Deno.ppid;
  if (value === "self") return Deno.pid;
  return intFlag(value, "pid", { min: 1, max: 0x7fffffff })!;
}

function booted(): boolean {
  try {
    return statPath("/run/systemd/system").type === "directory";
  } catch {
    return false;
  }
}

/** `ipckit notify`. */
export const notifyCommand: Command = {
  summary: "tell systemd about a service's state (systemd-notify's flags)",
  async run(ctx) {
    // systemd-notify's --pid takes an optional value: a bare --pid means "auto".
    ctx.args.splice(0, ctx.args.length, ...ctx.args.map((a) => a === "--pid" ? "--pid=auto" : a));
    const p = parse(ctx, {
      ready: { type: "boolean" },
      reloading: { type: "boolean" },
      stopping: { type: "boolean" },
      status: { type: "string" },
      pid: { type: "string" },
      booted: { type: "boolean" },
      "no-block": { type: "boolean" },
      fd: { type: "string", multiple: true },
      fdname: { type: "string" },
      json: { type: "boolean" },
    }, usage);
    if (!p) return EXIT.ok;
    const v = p.values;
    if (v.booted) return booted() ? EXIT.ok : EXIT.error;
    const extra: Record<string, string> = {};
    for (const a of p.positionals) {
      const i = a.indexOf("=");
      if (i <= 0) throw new UsageError(`expected VARIABLE=VALUE, got "${a}"`);
      extra[a.slice(0, i)] = a.slice(i + 1);
    }
    const fds = ((v.fd ?? []) as string[]).map((f) => intFlag(f, "fd", { max: 0x7fffffff })!);
    const pid = v.pid === undefined ? undefined : pidValue(String(v.pid));
    const state: NotifyState = {
      ready: Boolean(v.ready),
      reloading: Boolean(v.reloading),
      stopping: Boolean(v.stopping),
      status: v.status === undefined ? undefined : String(v.status),
      mainPid: pid,
      fdStore: fds.length ? fds : undefined,
      fdName: v.fdname === undefined ? undefined : String(v.fdname),
      extra,
    };
    const anything = v.ready || v.reloading || v.stopping || v.status !== undefined ||
      pid !== undefined || fds.length || p.positionals.length;
    if (!anything) throw new UsageError("nothing to send: give a flag or VARIABLE=VALUE");
    // As systemd-notify: sent on behalf of the main pid if given, else of the caller.
    const result = await notify(state, { pid: pid ?? Deno.ppid, timeout: 5000 });
    if (!result.sent) {
      ctx.err(`ipckit notify: no status data could be sent: ${result.reason}`);
      return EXIT.error;
    }
    if (!v["no-block"]) {
      // sd_notify_barrier: the manager closes its copy of our pipe once it has read
      // everything before it; end of file on our side says so.
      using pipe = createPipe();
      await notify("BARRIER=1", { fds: [pipe.writer], timeout: 5000 });
      pipe.writer.close();
      try {
        await pipe.reader.readAll({ timeout: 5000 });
      } catch (e) {
        // systemd-notify exits 1 here too ("Failed to invoke barrier").
        ctx.err(`ipckit notify: the manager did not confirm (BARRIER=1): ${(e as Error).message}`);
        return EXIT.error;
      }
    }
    if (v.json) ctx.json({ socket: result.socket, message: result.message });
    return EXIT.ok;
  },
};
