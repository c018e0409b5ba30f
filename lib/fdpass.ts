/**
 * Passing open descriptors between processes (`SCM_RIGHTS`) and sender
 * credentials (`SCM_CREDENTIALS`) over a Unix socket: `sendmsg`/`recvmsg`
 * with their control messages built and parsed here.
 *
 * Every received control message is walked with bounds checks and every
 * descriptor that arrived is either handed to the caller as an
 * {@linkcode FdHandle} or closed, including descriptors the caller did not
 * ask for. Received descriptors are close-on-exec (`MSG_CMSG_CLOEXEC`).
 *
 * @example Handing an open file to another process
 * ```ts
 * import { createSocketPair, receiveFds, sendFds } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair();
 * await sendFds(a, [0]); // our stdin
 * const [stdinCopy] = await receiveFds(b, { maxFds: 1, timeout: 1000 });
 * stdinCopy.close();
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { checkPath } from "./_validate.ts";
import { socket, socketLayout } from "../ffi/socket.ts";
import { getField, off, setField } from "../ffi/struct.ts";
import { E, ERRNO } from "../ffi/errno.ts";
import { invalidArgument, ipcError, sys } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import type { UnixSocket } from "./socket.ts";
import type { WaitOptions } from "./wait.ts";

/** The most descriptors Linux accepts in one message (`SCM_MAX_FD` in the kernel). */
export const MAX_FDS_PER_MESSAGE = 253;

/** Who sent a message, or who is connected: process id, user id, group id. */
export interface Credentials {
  /** Process id. */
  pid: number;
  /** User id. */
  uid: number;
  /** Group id. */
  gid: number;
}

/** Something that owns or names a descriptor to send. */
export type FdLike = FdHandle | number;

function align(n: number): number {
  const C = socket();
  const unit = C["CMSG_SPACE(1)"] - C["CMSG_LEN(0)"];
  return Math.ceil(n / unit) * unit;
}

/** `CMSG_LEN(n)`: header plus `n` data bytes. */
export function cmsgLen(n: number): number {
  return socket()["CMSG_LEN(0)"] + n;
}

/** `CMSG_SPACE(n)`: what a control message with `n` data bytes takes in the buffer. */
export function cmsgSpace(n: number): number {
  return socket()["CMSG_LEN(0)"] + align(n);
}

function address(buf: Uint8Array | null): bigint {
  if (!buf || buf.byteLength === 0) return 0n;
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

function setPointer(view: DataView, field: string, layoutName: string, buf: Uint8Array | null) {
  const L = socketLayout()[layoutName];
  view.setBigUint64(off(L, field), address(buf), true);
}

/** Validates descriptors to send and returns their numbers (before any syscall). */
export function fdNumbers(fds: readonly FdLike[], syscall: string, object?: string): number[] {
  if (!Array.isArray(fds)) throw invalidArgument(syscall, object, "fds must be an array");
  if (fds.length > MAX_FDS_PER_MESSAGE) {
    throw invalidArgument(
      syscall,
      object,
      `at most ${MAX_FDS_PER_MESSAGE} descriptors fit in one message, got ${fds.length}`,
      { limit: "SCM_MAX_FD" },
    );
  }
  return fds.map((f) => {
    if (f instanceof FdHandle) return f.fd;
    if (typeof f !== "number" || !Number.isInteger(f) || f < 0 || f > 0x7fffffff) {
      throw ipcError({
        code: "EBADF",
        syscall,
        object,
        detail: `not a descriptor: ${String(f)}`,
      });
    }
    return f;
  });
}

function checkCredentials(c: Credentials, syscall: string, object?: string): void {
  for (const k of ["pid", "uid", "gid"] as const) {
    const v = c?.[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw invalidArgument(syscall, object, `credentials.${k} must be an unsigned integer`);
    }
  }
}

/**
 * One `sendmsg` attempt on a non-blocking socket: the bytes sent, or `null`
 * on EAGAIN. `MSG_NOSIGNAL` always.
 */
export function trySendMessage(
  fd: number,
  name: string,
  data: Uint8Array,
  fds: number[],
  credentials: Credentials | undefined,
): number | null {
  const C = socket();
  const L = socketLayout();
  if (credentials) checkCredentials(credentials, "sendmsg", name);
  const rightsSpace = fds.length ? cmsgSpace(4 * fds.length) : 0;
  const credSpace = credentials ? cmsgSpace(L.ucred.size) : 0;
  const control = rightsSpace + credSpace ? new Uint8Array(rightsSpace + credSpace) : null;
  if (control) {
    const cv = new DataView(control.buffer);
    let at = 0;
    if (fds.length) {
      setField(cv, L.cmsghdr, "cmsg_len", cmsgLen(4 * fds.length), at);
      setField(cv, L.cmsghdr, "cmsg_level", C.SOL_SOCKET, at);
      setField(cv, L.cmsghdr, "cmsg_type", C.SCM_RIGHTS, at);
      fds.forEach((f, i) => cv.setInt32(at + cmsgLen(0) + 4 * i, f, true));
      at += rightsSpace;
    }
    if (credentials) {
      setField(cv, L.cmsghdr, "cmsg_len", cmsgLen(L.ucred.size), at);
      setField(cv, L.cmsghdr, "cmsg_level", C.SOL_SOCKET, at);
      setField(cv, L.cmsghdr, "cmsg_type", C.SCM_CREDENTIALS, at);
      const base = at + cmsgLen(0);
      setField(cv, L.ucred, "pid", credentials.pid, base);
      setField(cv, L.ucred, "uid", credentials.uid, base);
      setField(cv, L.ucred, "gid", credentials.gid, base);
    }
  }
  const payload = data.byteLength > 1 << 30 ? data.subarray(0, 1 << 30) : data;
  const iov = new Uint8Array(L.iovec.size);
  const iv = new DataView(iov.buffer);
  setPointer(iv, "iov_base", "iovec", payload);
  setField(iv, L.iovec, "iov_len", payload.byteLength);
  const hdr = new Uint8Array(L.msghdr.size);
  const hv = new DataView(hdr.buffer);
  setPointer(hv, "msg_iov", "msghdr", iov);
  setField(hv, L.msghdr, "msg_iovlen", 1);
  setPointer(hv, "msg_control", "msghdr", control);
  setField(hv, L.msghdr, "msg_controllen", control?.byteLength ?? 0);
  const flags = C.MSG_NOSIGNAL;
  for (;;) {
    // payload, iov and control stay referenced by these locals during this
    // synchronous call: the pointers in hdr cannot dangle.
    const n = libc().sendmsg(fd, hdr, flags);
    if (n >= 0) return n;
    const e = ERRNO[0];
    if (e === E().EAGAIN) return null;
    if (e !== E().EINTR) {
      throw ipcError({
        errno: e,
        syscall: "sendmsg",
        object: name,
        hint: e === E().EPERM && credentials
          ? "only a privileged process may send credentials other than its own"
          : e === E().EMSGSIZE
          ? "the message is larger than the socket's send buffer (SO_SNDBUF)"
          : undefined,
      });
    }
  }
}

/** What one `recvmsg` returned. */
export interface RawMessage {
  /** Bytes received into the buffer (`0` may mean end of stream). */
  bytes: number;
  /** Descriptors received, now owned by the caller. */
  fds: FdHandle[];
  /** `SCM_CREDENTIALS`, when the socket has `SO_PASSCRED` on. */
  credentials?: Credentials;
}

/**
 * One `recvmsg` attempt (`MSG_CMSG_CLOEXEC`, plus `MSG_TRUNC` on message
 * sockets to learn a datagram's real length), or `null` on EAGAIN. Throws
 * EMSGSIZE, after closing every descriptor that arrived, when the data or
 * the control messages did not fit.
 */
export function tryReceiveMessage(
  fd: number,
  name: string,
  buffer: Uint8Array,
  maxFds: number,
  messageSocket: boolean,
): RawMessage | null {
  const C = socket();
  const L = socketLayout();
  const controlLen = cmsgSpace(L.ucred.size) + (maxFds > 0 ? cmsgSpace(4 * maxFds) : 0);
  const control = new Uint8Array(controlLen);
  const iov = new Uint8Array(L.iovec.size);
  const iv = new DataView(iov.buffer);
  setPointer(iv, "iov_base", "iovec", buffer);
  setField(iv, L.iovec, "iov_len", Math.min(buffer.byteLength, 1 << 30));
  const hdr = new Uint8Array(L.msghdr.size);
  const hv = new DataView(hdr.buffer);
  setPointer(hv, "msg_iov", "msghdr", iov);
  setField(hv, L.msghdr, "msg_iovlen", 1);
  setPointer(hv, "msg_control", "msghdr", control);
  setField(hv, L.msghdr, "msg_controllen", controlLen);
  const flags = C.MSG_CMSG_CLOEXEC | (messageSocket ? C.MSG_TRUNC : 0);
  let n: number;
  for (;;) {
    n = libc().recvmsg(fd, hdr, flags);
    if (n >= 0) break;
    const e = ERRNO[0];
    if (e === E().EAGAIN) return null;
    if (e !== E().EINTR) throw ipcError({ errno: e, syscall: "recvmsg", object: name });
  }
  const msgFlags = getField(hv, L.msghdr, "msg_flags");
  const used = Math.min(getField(hv, L.msghdr, "msg_controllen"), controlLen);
  const { fds, credentials } = parseControl(control, used);
  if (msgFlags & C.MSG_CTRUNC || fds.length > maxFds) {
    for (const f of fds) f.close();
    throw ipcError({
      code: "EMSGSIZE",
      syscall: "recvmsg",
      object: name,
      detail: `the peer sent more descriptors than this receive accepts (maxFds ${maxFds}); ` +
        "every descriptor that arrived was closed",
      hint: "pass a larger maxFds",
      limit: "maxFds",
    });
  }
  if (messageSocket && (msgFlags & C.MSG_TRUNC || n > buffer.byteLength)) {
    for (const f of fds) f.close();
    throw ipcError({
      code: "EMSGSIZE",
      syscall: "recvmsg",
      object: name,
      detail: `a ${n}-byte message did not fit in ${buffer.byteLength} bytes and was discarded`,
      hint: "pass a larger maxBytes",
      limit: "maxBytes",
    });
  }
  return { bytes: n, fds, credentials };
}

/** Walks every control message, taking ownership of every descriptor in it. */
function parseControl(
  control: Uint8Array,
  length: number,
): { fds: FdHandle[]; credentials?: Credentials } {
  const C = socket();
  const L = socketLayout();
  const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
  const fds: FdHandle[] = [];
  let credentials: Credentials | undefined;
  const head = cmsgLen(0);
  let at = 0;
  while (at + head <= length) {
    const len = getField(view, L.cmsghdr, "cmsg_len", false, at);
    if (len < head || at + len > length) break;
    const level = getField(view, L.cmsghdr, "cmsg_level", true, at);
    const type = getField(view, L.cmsghdr, "cmsg_type", true, at);
    const dataLen = len - head;
    if (level === C.SOL_SOCKET && type === C.SCM_RIGHTS) {
      for (let i = 0; i + 4 <= dataLen; i += 4) {
        const fd = view.getInt32(at + head + i, true);
        try {
          fds.push(new FdHandle(fd, { name: `received fd ${fd}` }));
        } catch {
          libc().close(fd);
        }
      }
    } else if (
      level === C.SOL_SOCKET && type === C.SCM_CREDENTIALS && dataLen >= L.ucred.size
    ) {
      const base = at + head;
      credentials = {
        pid: getField(view, L.ucred, "pid", true, base),
        uid: getField(view, L.ucred, "uid", false, base),
        gid: getField(view, L.ucred, "gid", false, base),
      };
    }
    at += cmsgSpace(dataLen);
  }
  return { fds, credentials };
}

/**
 * `getsockopt(SO_PEERCRED)`: the pid, uid and gid of the process that
 * connected (or created the socket pair), captured by the kernel at
 * `connect`/`socketpair` time. This is the identity to authenticate with;
 * `SCM_CREDENTIALS` can be forged by a privileged sender.
 *
 * @throws {IpcError} ENOTCONN on an unconnected socket.
 */
export function peerCredentialsOf(fd: number, name: string): Credentials {
  const C = socket();
  const L = socketLayout();
  const buf = new Uint8Array(L.ucred.size);
  const len = new Uint32Array([L.ucred.size]);
  const r = libc().getsockopt(fd, C.SOL_SOCKET, C.SO_PEERCRED, buf, len);
  if (r === -1) {
    throw ipcError({ errno: ERRNO[0], syscall: "getsockopt(SO_PEERCRED)", object: name });
  }
  const v = new DataView(buf.buffer);
  return {
    pid: getField(v, L.ucred, "pid", true),
    uid: getField(v, L.ucred, "uid"),
    gid: getField(v, L.ucred, "gid"),
  };
}

/** Options for {@linkcode receiveFds}. */
export interface ReceiveFdsOptions extends WaitOptions {
  /** Most descriptors to accept (default 1, at most 253). */
  maxFds?: number;
}

const ONE_BYTE = new Uint8Array(1);

/**
 * Sends descriptors over a connected Unix socket (`SCM_RIGHTS`) with
 * `data` (default: one zero byte, since a stream needs at least one byte to
 * carry them). The descriptors stay open here: the peer gets its own copies.
 *
 * @example
 * ```ts
 * import { createPipe, createSocketPair, receiveFds, sendFds } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair();
 * using pipe = createPipe();
 * await sendFds(a, [pipe.writer]);
 * const [writer] = await receiveFds(b, { timeout: 1000 });
 * await writer.writeAll(new TextEncoder().encode("via a passed fd"));
 * writer.close();
 * a.close();
 * b.close();
 * ```
 * @throws {IpcError} EBADF for a closed or invalid descriptor; EINVAL for
 * more than 253; EPIPE if the peer closed.
 */
export async function sendFds(
  socket: UnixSocket,
  fds: readonly FdLike[],
  options: WaitOptions & { data?: Uint8Array } = {},
): Promise<void> {
  const list = fdNumbers(fds, "sendmsg", socket.name);
  if (list.length === 0) throw invalidArgument("sendmsg", socket.name, "no descriptors to send");
  await socket.send(options.data ?? ONE_BYTE, { ...options, fds: list });
}

/**
 * Waits for a message carrying descriptors and returns them as handles the
 * caller owns (the message's bytes are dropped; use `socket.receive()` to
 * keep them). Descriptors beyond `maxFds` are closed and reported as
 * EMSGSIZE.
 *
 * @example
 * ```ts
 * import { createSocketPair, receiveFds, sendFds } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair("seqpacket");
 * await sendFds(a, [1]);
 * const got = await receiveFds(b, { maxFds: 4 });
 * for (const h of got) h.close();
 * a.close();
 * b.close();
 * ```
 * @throws {IpcError} EMSGSIZE when more descriptors came than `maxFds`;
 * ECONNRESET (code) when the connection ended first; ETIMEDOUT.
 */
export async function receiveFds(
  socket: UnixSocket,
  options: ReceiveFdsOptions = {},
): Promise<FdHandle[]> {
  const msg = await socket.receive({ ...options, maxFds: options.maxFds ?? 1, maxBytes: 4096 });
  if (msg.end) {
    throw ipcError({
      code: "ECONNRESET",
      syscall: "recvmsg",
      object: socket.name,
      detail: "the peer closed the connection before sending descriptors",
    });
  }
  return msg.fds;
}

/**
 * Opens a file as an {@linkcode FdHandle} (close-on-exec), so that its
 * descriptor can be passed to another process: `Deno.FsFile` does not expose
 * its descriptor. Regular files and devices only; the handle's non-blocking
 * flag has no effect on regular files.
 *
 * @example
 * ```ts
 * import { openFile } from "@ipckit/ipckit";
 * using hosts = openFile("/etc/hosts");
 * console.log((await hosts.readAll()).length > 0);
 * ```
 * @throws {IpcError} ENOENT, EACCES, EISDIR as `open(2)` reports them.
 */
export function openFile(path: string, access: "read" | "write" | "readwrite" = "read"): FdHandle {
  checkPath(path, "open");
  const C = unistd();
  const mode = access === "read"
    ? C.O_RDONLY
    : access === "write"
    ? C.O_WRONLY
    : access === "readwrite"
    ? C.O_RDWR
    : -1;
  if (mode < 0) throw invalidArgument("open", path, "access must be read, write or readwrite");
  const fd = sys(() => libc().open(cstr(path), mode | C.O_CLOEXEC | C.O_NOCTTY, 0), "open", path);
  return new FdHandle(fd, { name: path });
}
