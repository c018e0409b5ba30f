/**
 * Giving a socket an address: `bind` with the socket file born at its final
 * mode, a stale file replaced only when it is a socket of a trusted owner
 * that nothing listens on, and the file removed when the socket closes.
 * Shared by listeners, bound datagram sockets and bound clients.
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { IpcError, ipcError, sys, sysOnce } from "./_errors.ts";
import { checkMode } from "./_validate.ts";
import { statPath } from "./_stat.ts";
import { checkOwner, trustLevel, type TrustOptions } from "./_trust.ts";
import { openSocket, type ResolvedAddress } from "./_address.ts";
import { setIntOption } from "./_sockopt.ts";
import { UnixSocket } from "./_socket.ts";

/** What {@linkcode bindTo} needs besides the address. */
export interface BindOptions extends TrustOptions {
  /** Mode of the socket file (default `0o600`). */
  mode?: number;
  /** Replace a stale socket file (default `true`). */
  replaceStale?: boolean;
  /** Turn `SO_PASSCRED` on before binding. */
  passCredentials?: boolean;
}

/**
 * Whether `path` is a socket file that may be replaced: a socket (never a
 * symlink), owned by a trusted uid under `options`, that connecting to is
 * refused. A socket of an untrusted owner gives EPERM.
 */
function isStale(where: ResolvedAddress, type: number, options: BindOptions): boolean {
  let st;
  try {
    st = statPath(where.path);
  } catch {
    return false;
  }
  if (st.type !== "socket") return false;
  // The owner matters, not the mode: a socket's write bit is who may connect.
  checkOwner({ uid: st.uid, mode: 0 }, options, "unlink", where.name, "stale socket file");
  let probe: number;
  try {
    probe = openSocket(type, where.name);
  } catch {
    return false;
  }
  try {
    sysOnce(() => libc().connect(probe, where.addr, where.len), "connect", where.name);
    return false;
  } catch (e) {
    return e instanceof IpcError && e.code === "ECONNREFUSED";
  } finally {
    libc().close(probe);
  }
}

/**
 * Binds the socket `fd` to `where`. The socket inode gets its mode before
 * `bind` (`fchmod`), so the file is born with it, or narrower under a
 * umask, and widened afterwards: never a window where more processes may
 * connect than asked.
 */
export function bindTo(fd: number, where: ResolvedAddress, type: number, options: BindOptions) {
  const name = where.name;
  const mode = checkMode(options.mode ?? 0o600, "bind", name);
  trustLevel(options, "bind", name);
  if (options.passCredentials) setIntOption(fd, "SO_PASSCRED", 1, name);
  if (!where.abstract) sys(() => libc().fchmod(fd, mode), "fchmod", name);
  const bind = () =>
    sys(() => libc().bind(fd, where.addr, where.len), "bind", name, { kind: "directory" });
  try {
    try {
      bind();
    } catch (e) {
      if (
        !(e instanceof IpcError) || e.code !== "EADDRINUSE" || where.abstract ||
        !(options.replaceStale ?? true) || !isStale(where, type, options)
      ) throw e;
      libc().unlink(cstr(where.path));
      bind();
    }
  } catch (e) {
    if (!(e instanceof IpcError) || e.code !== "EADDRINUSE") throw e;
    throw ipcError({
      errno: e.errno,
      syscall: "bind",
      object: name,
      hint: where.abstract
        ? "another socket holds this abstract name"
        : "a live server is listening there, or the path exists and is not a stale socket of yours",
    });
  }
  if (!where.abstract) {
    // The umask narrowed the mode at bind: widen it now (the path is our new socket).
    const st = statPath(where.path);
    if (st.type === "socket" && st.mode !== mode) {
      sys(() => libc().chmod(cstr(where.path), mode), "chmod", name);
    }
  }
}

/** Creates a socket of `type` and binds it; returns the descriptor. */
export function boundSocket(where: ResolvedAddress, type: number, options: BindOptions): number {
  const fd = openSocket(type, where.name);
  try {
    bindTo(fd, where, type, options);
    return fd;
  } catch (e) {
    libc().close(fd);
    throw e;
  }
}

/** A bound socket that removes its file on close. */
export class BoundSocket extends UnixSocket {
  readonly #unlinkPath: string | null;
  constructor(fd: number, name: string, type: UnixSocket["type"], unlinkPath: string | null) {
    super(fd, { name, type });
    this.#unlinkPath = unlinkPath;
  }
  protected override onClose(): void {
    // Best effort: the file may already be gone, and close must not throw for it.
    if (this.#unlinkPath !== null) libc().unlink(cstr(this.#unlinkPath));
  }
}
