/**
 * Socket activation (`sd_listen_fds`): {@linkcode listenFds} takes the
 * sockets systemd (or `systemd-socket-activate`) passed as descriptors 3,
 * 4, ... and returns them as ipckit listeners and sockets.
 *
 * @module
 */
import { optionsObject } from "./_validate.ts";
import { socket } from "../ffi/socket.ts";
import { invalidArgument } from "./_errors.ts";
import { Descriptor } from "./fd.ts";
import { statFd } from "./_stat.ts";
import { typeName } from "./_address.ts";
import { getIntOption } from "./_sockopt.ts";
import { UnixSocket } from "./_socket.ts";
import { UnixListener } from "./_listener.ts";

/** The first passed descriptor (`SD_LISTEN_FDS_START`). */
export const LISTEN_FDS_START = 3;

/** One descriptor passed by the service manager. */
export interface ListenedFd {
  /** Its name from `LISTEN_FDNAMES` (`FileDescriptorName=`), or `"unknown"`. */
  name: string;
  /** The descriptor number. */
  fd: number;
  /**
   * A {@linkcode UnixListener} for a listening Unix stream or seqpacket
   * socket, a {@linkcode UnixSocket} for a Unix datagram socket or an
   * accepted connection (`Accept=yes`), and a plain {@linkcode Descriptor}
   * for anything else (TCP, UDP, FIFOs...), to pass on or wrap yourself.
   */
  handle: UnixListener | UnixSocket | Descriptor;
}

/** Options for {@linkcode listenFds}. */
export interface ListenFdsOptions {
  /**
   * Remove `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` from the
   * environment (default `true`, as `sd_listen_fds(1)`), so that programs
   * this one starts do not take the descriptors for theirs.
   */
  unsetEnvironment?: boolean;
}

function unset(): void {
  for (const k of ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]) Deno.env.delete(k);
}

function wrap(fd: number, name: string): UnixListener | UnixSocket | Descriptor {
  const label = `${name} (fd ${fd})`;
  const C = socket();
  if (statFd(fd, label).type !== "socket" || getIntOption(fd, "SO_DOMAIN", label) !== C.AF_UNIX) {
    return new Descriptor(fd, { name: label, nonBlocking: false });
  }
  const type = typeName(getIntOption(fd, "SO_TYPE", label));
  const listening = getIntOption(fd, "SO_ACCEPTCONN", label) !== 0;
  const sock = new UnixSocket(fd, { name: label, type });
  const address = sock.localAddress ?? label;
  if (!listening) return sock;
  return new UnixListener(sock.release(), address, type, null);
}

/**
 * The sockets the service manager passed (`sd_listen_fds`): nothing (`[]`)
 * unless `$LISTEN_PID` is this process and `$LISTEN_FDS` is set, as systemd
 * sets them for a service started by a `.socket` unit, or
 * `systemd-socket-activate` for any command. Each descriptor becomes a
 * handle of its kind (see {@linkcode ListenedFd.handle}), close-on-exec;
 * the variables are removed from the environment.
 *
 * A listener made here does not remove its socket file on close: the
 * `.socket` unit owns it.
 *
 * @example
 * ```ts
 * import { listenFds } from "@ipckit/ipckit/systemd";
 * import { UnixListener } from "@ipckit/ipckit/socket";
 * for (const { name, handle } of listenFds()) {
 *   if (handle instanceof UnixListener) console.log(`${name}: ${handle.address}`);
 * }
 * ```
 * @throws {IpcError} EINVAL for a malformed `$LISTEN_FDS`; EBADF if a
 * descriptor it announces is not open.
 */
export function listenFds(options: ListenFdsOptions = {}): ListenedFd[] {
  optionsObject(options, "sd_listen_fds", "LISTEN_FDS");
  const pid = Deno.env.get("LISTEN_PID");
  const count = Deno.env.get("LISTEN_FDS");
  const names = Deno.env.get("LISTEN_FDNAMES");
  const done = () => {
    if (options.unsetEnvironment ?? true) unset();
  };
  if (pid === undefined || count === undefined) {
    done();
    return [];
  }
  if (!/^[0-9]+$/.test(pid)) {
    done();
    throw invalidArgument("sd_listen_fds", "LISTEN_PID", `malformed value "${pid}"`);
  }
  if (Number(pid) !== Deno.pid) {
    // Meant for another process (our parent, which did not unset them).
    done();
    return [];
  }
  if (!/^[0-9]+$/.test(count) || Number(count) > 65536) {
    done();
    throw invalidArgument("sd_listen_fds", "LISTEN_FDS", `malformed value "${count}"`);
  }
  const n = Number(count);
  const labels = names === undefined ? [] : names.split(":");
  const out: ListenedFd[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const fd = LISTEN_FDS_START + i;
      const name = labels[i] || "unknown";
      const handle = wrap(fd, name);
      handle.closeOnExec = true;
      out.push({ name, fd, handle });
    }
  } catch (e) {
    for (const h of out) h.handle.release();
    done();
    throw e;
  }
  done();
  return out;
}
