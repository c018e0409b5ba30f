/**
 * `sd_notify` in TypeScript: {@linkcode notify} sends state changes to the
 * service manager over `$NOTIFY_SOCKET`, and {@linkcode watchdog} keeps a
 * `WatchdogSec=` service alive.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { semaphore } from "../ffi/semaphore.ts";
import { socket } from "../ffi/socket.ts";
import { invalidArgument, IpcError, sys } from "./_errors.ts";
import type { WaitOptions } from "./wait.ts";
import { openSocket, resolveAddress } from "./_address.ts";
import { UnixSocket } from "./_socket.ts";
import type { FdLike } from "./_msghdr.ts";
import { optionsObject } from "./_validate.ts";

/**
 * What to tell the service manager. Each field is one `sd_notify`
 * assignment; see `sd_notify(3)`.
 */
export interface NotifyState {
  /** `READY=1`: start-up finished (`Type=notify` services). */
  ready?: boolean;
  /** `RELOADING=1` with `MONOTONIC_USEC=` now (`Type=notify-reload`); send `ready` when done. */
  reloading?: boolean;
  /** `STOPPING=1`: shutting down. */
  stopping?: boolean;
  /** `STATUS=`: one line shown by `systemctl status`. */
  status?: string;
  /** `ERRNO=`: the errno the service failed with. */
  errno?: number;
  /** `MAINPID=`: the service's main process, if it is not the sender. */
  mainPid?: number;
  /** `WATCHDOG=1` (`true`), or `WATCHDOG=trigger` to make the manager act as on a timeout. */
  watchdog?: true | "trigger";
  /** `WATCHDOG_USEC=`: change the watchdog interval, in microseconds. */
  watchdogUsec?: number;
  /** `EXTEND_TIMEOUT_USEC=`: ask for this many more microseconds to start, reload or stop. */
  extendTimeoutUsec?: number;
  /** `FDSTORE=1`: keep these descriptors for the next run (`FileDescriptorStoreMax=`). */
  fdStore?: readonly FdLike[];
  /** `FDNAME=`: the name of the descriptors stored (or removed). */
  fdName?: string;
  /** `FDSTOREREMOVE=1`: drop the stored descriptors named `fdName`. */
  fdStoreRemove?: boolean;
  /** Further `VARIABLE=VALUE` assignments, sent after the ones above. */
  extra?: Readonly<Record<string, string>>;
}

/** Options for {@linkcode notify}. */
export interface NotifyOptions extends WaitOptions {
  /** Remove `NOTIFY_SOCKET` from the environment afterwards (like `sd_notify(1, ...)`). */
  unsetEnvironment?: boolean;
  /**
   * Send on behalf of this pid (`sd_pid_notify`): its credentials go with
   * the message. Only a privileged sender may name another (live) process;
   * when the kernel refuses, the message is sent with the sender's own
   * credentials instead, as `sd_pid_notify` does.
   */
  pid?: number;
  /** Extra descriptors to send along (as `sd_pid_notify_with_fds`). */
  fds?: readonly FdLike[];
}

/** What {@linkcode notify} did. */
export interface NotifyResult {
  /** Whether the message was sent. */
  sent: boolean;
  /** The socket it went to (`$NOTIFY_SOCKET`), or `null` when unset. */
  socket: string | null;
  /** The message, `VARIABLE=VALUE` lines. */
  message: string;
  /** Why nothing was sent (not running under systemd, or an unsupported socket). */
  reason?: string;
}

const encoder = new TextEncoder();

/** `CLOCK_MONOTONIC` in microseconds, as `MONOTONIC_USEC=` wants it. */
export function monotonicUsec(): bigint {
  const ts = new BigInt64Array(2);
  sys(() => libc().clock_gettime(semaphore().CLOCK_MONOTONIC, ts), "clock_gettime");
  return ts[0] * 1_000_000n + ts[1] / 1000n;
}

function usec(value: unknown, what: string): string {
  if (typeof value === "bigint" ? value < 0n : !Number.isSafeInteger(value) || Number(value) < 0) {
    throw invalidArgument("sd_notify", what, `${what} must be a non-negative integer`);
  }
  return String(value);
}

function line(key: string, value: string): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) {
    throw invalidArgument("sd_notify", key, "variable names are upper-case letters, digits and _");
  }
  if (typeof value !== "string" || value.includes("\n")) {
    throw invalidArgument("sd_notify", key, "a value must be a string without newlines");
  }
  return `${key}=${value}`;
}

/** The message text for `state`, in sd_notify's order. */
function notifyMessage(state: NotifyState | string): string {
  if (typeof state === "string") return state;
  if (state === null || typeof state !== "object") {
    throw invalidArgument("sd_notify", undefined, "state must be an object or a string");
  }
  const lines: string[] = [];
  if (state.ready) lines.push("READY=1");
  if (state.reloading) {
    lines.push("RELOADING=1", `MONOTONIC_USEC=${monotonicUsec()}`);
  }
  if (state.stopping) lines.push("STOPPING=1");
  if (state.status !== undefined) lines.push(line("STATUS", state.status));
  if (state.errno !== undefined) lines.push(`ERRNO=${usec(state.errno, "errno")}`);
  if (state.mainPid !== undefined) lines.push(`MAINPID=${usec(state.mainPid, "mainPid")}`);
  if (state.watchdog !== undefined) {
    if (state.watchdog !== true && state.watchdog !== "trigger") {
      throw invalidArgument("sd_notify", "watchdog", 'watchdog must be true or "trigger"');
    }
    lines.push(state.watchdog === true ? "WATCHDOG=1" : "WATCHDOG=trigger");
  }
  if (state.watchdogUsec !== undefined) {
    lines.push(`WATCHDOG_USEC=${usec(state.watchdogUsec, "watchdogUsec")}`);
  }
  if (state.extendTimeoutUsec !== undefined) {
    lines.push(`EXTEND_TIMEOUT_USEC=${usec(state.extendTimeoutUsec, "extendTimeoutUsec")}`);
  }
  if (state.fdStore !== undefined) lines.push("FDSTORE=1");
  if (state.fdStoreRemove) lines.push("FDSTOREREMOVE=1");
  if (state.fdName !== undefined) lines.push(line("FDNAME", state.fdName));
  for (const [k, v] of Object.entries(state.extra ?? {})) lines.push(line(k, v));
  return lines.join("\n");
}

/**
 * Sends `state` to the service manager (`sd_notify`): to `$NOTIFY_SOCKET`,
 * a path or an abstract `@name`. When the variable is not set (not started
 * by systemd, or `NotifyAccess=` does not allow it), nothing is sent and
 * the result says so (`sent: false`, `reason`); that is not an error, so a
 * service runs the same outside systemd.
 *
 * @example
 * ```ts
 * import { notify } from "@ipckit/ipckit/systemd";
 * const r = await notify({ ready: true, status: "serving" });
 * if (!r.sent) console.log(r.reason); // outside systemd
 * ```
 * @throws {IpcError} EINVAL for a bad state; a socket error (ECONNREFUSED,
 * ENOENT, EACCES) when `$NOTIFY_SOCKET` names a socket that cannot be used.
 */
export async function notify(
  state: NotifyState | string,
  given?: NotifyOptions,
): Promise<NotifyResult> {
  const options = optionsObject(given, "sendmsg", "NOTIFY_SOCKET");
  const message = notifyMessage(state);
  const fds = [
    ...(typeof state === "object" ? state.fdStore ?? [] : []),
    ...(options.fds ?? []),
  ];
  const target = Deno.env.get("NOTIFY_SOCKET") ?? null;
  if (options.unsetEnvironment) Deno.env.delete("NOTIFY_SOCKET");
  if (!target) {
    return {
      sent: false,
      socket: null,
      message,
      reason: "NOTIFY_SOCKET is not set: not started by systemd as a notify service, " +
        "so there is no one to tell",
    };
  }
  if (!target.startsWith("/") && !target.startsWith("@")) {
    return {
      sent: false,
      socket: target,
      message,
      reason: `NOTIFY_SOCKET=${target} is not a path or @name (vsock is not supported)`,
    };
  }
  const where = resolveAddress(target, {}, "sendmsg");
  using sock = new UnixSocket(openSocket(socket().SOCK_DGRAM, where.name), {
    name: where.name,
    type: "dgram",
  });
  const data = encoder.encode(message);
  const pid = options.pid;
  if (pid !== undefined && pid !== Deno.pid) {
    usec(pid, "pid");
    const credentials = { pid, uid: libc().geteuid(), gid: libc().getegid() };
    try {
      await sock.sendTo(target, data, { ...options, fds, credentials });
      return { sent: true, socket: target, message };
    } catch (e) {
      // As sd_pid_notify: if the kernel refuses those credentials (EPERM unprivileged,
      // ESRCH for a pid that is gone), send with our own instead. Anything else (a
      // timeout above all: retrying would start a second one) is the caller's error.
      if (!(e instanceof IpcError) || (e.code !== "EPERM" && e.code !== "ESRCH")) throw e;
    }
  }
  await sock.sendTo(target, data, { ...options, fds });
  return { sent: true, socket: target, message };
}

/** Options for {@linkcode watchdog}. */
export interface WatchdogOptions {
  /**
   * Ping interval in milliseconds; default half of `$WATCHDOG_USEC`, as
   * `sd_watchdog_enabled(3)` recommends.
   */
  intervalMs?: number;
  /** Called when a ping fails (default: print it on stderr); pinging goes on. */
  onError?: (error: unknown) => void;
}

/**
 * A running watchdog pinger from {@linkcode watchdog}: stop it with
 * `stop()` or `using`.
 */
export interface Watchdog extends Disposable {
  /** Whether the service manager asked for pings (`$WATCHDOG_USEC` for this pid). */
  readonly enabled: boolean;
  /** The manager's timeout in microseconds, or `null`. */
  readonly timeoutUsec: number | null;
  /** Milliseconds between pings, or `null` when not enabled. */
  readonly intervalMs: number | null;
  /** Why it is not enabled. */
  readonly reason?: string;
  /** Stops pinging. */
  stop(): void;
}

/**
 * Keeps a `WatchdogSec=` service alive: sends `WATCHDOG=1` now and then
 * every half of `$WATCHDOG_USEC` (checked against `$WATCHDOG_PID`, as
 * `sd_watchdog_enabled` does). Not under a watchdog, it does nothing and
 * says why (`enabled: false`, `reason`). The timer does not keep the
 * process alive by itself. Ping from the loop that does the work if a hung
 * loop must be noticed: a timer goes on pinging while the rest is stuck.
 *
 * @example
 * ```ts
 * import { watchdog } from "@ipckit/ipckit/systemd";
 * using dog = watchdog();
 * console.log(dog.enabled ? `pinging every ${dog.intervalMs} ms` : dog.reason);
 * ```
 * @throws {IpcError} EINVAL for a malformed `$WATCHDOG_USEC` or a bad `intervalMs`.
 */
export function watchdog(given?: WatchdogOptions): Watchdog {
  const options = optionsObject(given, "watchdog", "WATCHDOG_USEC");
  const raw = Deno.env.get("WATCHDOG_USEC");
  const pid = Deno.env.get("WATCHDOG_PID");
  const off = (reason: string): Watchdog => ({
    enabled: false,
    timeoutUsec: null,
    intervalMs: null,
    reason,
    stop() {},
    [Symbol.dispose]() {},
  });
  if (raw === undefined) return off("WATCHDOG_USEC is not set: no watchdog for this service");
  if (pid !== undefined && pid !== String(Deno.pid)) {
    return off(`WATCHDOG_PID is ${pid}, not this process (${Deno.pid})`);
  }
  if (!/^[1-9][0-9]*$/.test(raw)) {
    throw invalidArgument("sd_watchdog_enabled", "WATCHDOG_USEC", `malformed value "${raw}"`);
  }
  const timeoutUsec = Number(raw);
  const intervalMs = options.intervalMs ?? Math.max(1, Math.floor(timeoutUsec / 2000));
  if (typeof intervalMs !== "number" || !(intervalMs > 0) || !Number.isFinite(intervalMs)) {
    throw invalidArgument("watchdog", "intervalMs", "intervalMs must be a positive number");
  }
  const onError = options.onError ??
    ((e: unknown) => console.error(`ipckit: watchdog ping failed: ${(e as Error).message}`));
  const ping = () => notify({ watchdog: true }).catch(onError);
  ping();
  const timer = setInterval(ping, intervalMs);
  Deno.unrefTimer(timer);
  const stop = () => clearInterval(timer);
  return { enabled: true, timeoutUsec, intervalMs, stop, [Symbol.dispose]: stop };
}
