/**
 * Talking to systemd without libsystemd: {@linkcode notify} (`sd_notify`:
 * READY, RELOADING, STOPPING, STATUS, ERRNO, MAINPID, WATCHDOG, FDSTORE,
 * EXTEND_TIMEOUT_USEC...), {@linkcode watchdog} (pings at half of
 * `WatchdogSec=`), and {@linkcode listenFds} (`sd_listen_fds`: the sockets
 * of a `.socket` unit as ipckit listeners). Outside systemd each does
 * nothing and says so, so one program runs under systemd and from a shell.
 *
 * @example A notify service that takes its socket from a .socket unit
 * ```ts
 * import { listenFds, notify, watchdog } from "@ipckit/ipckit/systemd";
 * import { listenUnix, UnixListener } from "@ipckit/ipckit/socket";
 * const passed = listenFds().find((f) => f.handle instanceof UnixListener);
 * using server = (passed?.handle as UnixListener | undefined) ??
 *   listenUnix("@ipckit-doc-systemd");
 * using _dog = watchdog();
 * await notify({ ready: true, status: `listening on ${server.address}` });
 * ```
 *
 * @module
 */
export {
  notify,
  type NotifyOptions,
  type NotifyResult,
  type NotifyState,
  type Watchdog,
  watchdog,
  type WatchdogOptions,
} from "./_systemd_notify.ts";
export {
  LISTEN_FDS_START,
  type ListenedFd,
  listenFds,
  type ListenFdsOptions,
} from "./_systemd_listen.ts";
