/**
 * `sendmsg`/`recvmsg` with their control messages (`SCM_RIGHTS`,
 * `SCM_CREDENTIALS`) built and parsed here; the `msghdr`, `iovec`,
 * `cmsghdr` and `ucred` layouts come from `ffi/socket.ts`.
 *
 * Every received control message is walked with bounds checks and every
 * descriptor that arrived is either handed to the caller as an
 * {@linkcode FdHandle} or closed, including descriptors the caller did not
 * ask for. Received descriptors are close-on-exec (`MSG_CMSG_CLOEXEC`).
 *
 * @module
 */
import { describe, MAX_IO } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { socket, socketLayout } from "../ffi/socket.ts";
import { getField, off, setField } from "../ffi/struct.ts";
import { invalidArgument, IpcError, ipcError, trySys } from "./_errors.ts";
import { Descriptor, FdHandle } from "./fd.ts";
import type { Credentials } from "./_sockopt.ts";
import { decodeAddress } from "./_address.ts";

/** The most descriptors Linux accepts in one message (`SCM_MAX_FD` in the kernel). */
export const MAX_FDS_PER_MESSAGE = 253;

/** Something that owns or names a descriptor to send. */
export type FdLike = Descriptor | number;

/** Largest payload one call moves: keeps the `i32` result exact. */

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

/** Stores `buf`'s address in a pointer field, whose offset and width come from the layout. */
function setPointer(view: DataView, field: string, layoutName: string, buf: Uint8Array | null) {
  const L = socketLayout()[layoutName];
  if (L.fields[field]?.[1] !== 8) throw new Error(`ipckit bug: ${L.c}.${field} is not a pointer`);
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
    if (f instanceof Descriptor) return f.fd;
    if (typeof f !== "number" || !Number.isInteger(f) || f < 0 || f > 0x7fffffff) {
      throw ipcError({
        code: "EBADF",
        syscall,
        object,
        detail: `not a descriptor: ${describe(f)}`,
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

/** Buffers `msghdr` points into, held until the call that reads them has returned. */
let held: unknown = null;
function keepAlive(...buffers: unknown[]): void {
  held = buffers;
  held = held && null;
}

/** A `msghdr` with one `iovec` over `payload` and `control` (or none). */
function header(payload: Uint8Array, control: Uint8Array | null) {
  const L = socketLayout();
  const iov = new Uint8Array(L.iovec.size);
  const iv = new DataView(iov.buffer);
  setPointer(iv, "iov_base", "iovec", payload);
  setField(iv, L.iovec, "iov_len", Math.min(payload.byteLength, MAX_IO));
  const hdr = new Uint8Array(L.msghdr.size);
  const hv = new DataView(hdr.buffer);
  setPointer(hv, "msg_iov", "msghdr", iov);
  setField(hv, L.msghdr, "msg_iovlen", 1);
  setPointer(hv, "msg_control", "msghdr", control);
  setField(hv, L.msghdr, "msg_controllen", control?.byteLength ?? 0);
  return { hdr, hv, iov };
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
  to?: { addr: Uint8Array<ArrayBuffer>; len: number },
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
  const payload = data.byteLength > MAX_IO ? data.subarray(0, MAX_IO) : data;
  // payload, iov and control stay referenced by these locals during this
  // synchronous call: the pointers in hdr cannot dangle.
  const { hdr, hv, iov } = header(payload, control);
  if (to) {
    setPointer(hv, "msg_name", "msghdr", to.addr);
    setField(hv, L.msghdr, "msg_namelen", to.len);
  }
  const flags = C.MSG_NOSIGNAL;
  try {
    return trySys(() => libc().sendmsg(fd, hdr, flags), "sendmsg", name);
  } catch (e) {
    const hint = !(e instanceof IpcError)
      ? undefined
      : e.code === "EPERM" && credentials
      ? "only a privileged process may send credentials other than its own"
      : e.code === "EMSGSIZE"
      ? "the message is larger than the socket's send buffer (SO_SNDBUF)"
      : undefined;
    if (hint === undefined) throw e;
    throw ipcError({ errno: (e as IpcError).errno, syscall: "sendmsg", object: name, hint });
  } finally {
    keepAlive(payload, iov, control, to);
  }
}

/** What one `recvmsg` returned. */
export interface RawMessage {
  /** Bytes received into the buffer (`0` may mean end of stream). */
  length: number;
  /** Descriptors received, now owned by the caller. */
  fds: FdHandle[];
  /** `SCM_CREDENTIALS`, when the socket has `SO_PASSCRED` on. */
  credentials?: Credentials;
  /** The datagram was longer than the buffer and only its start was kept. */
  truncated: boolean;
  /** The sender's address, when asked for (`withAddress`): a path, `@name`, or `null` if unbound. */
  address?: string | null;
}

/**
 * One `recvmsg` attempt (`MSG_CMSG_CLOEXEC`, plus `MSG_TRUNC` on message
 * sockets to learn a datagram's real length), or `null` on EAGAIN. Throws
 * EMSGSIZE, after closing every descriptor that arrived, when the control
 * messages did not fit, or the data did not fit and `truncate` is off.
 */
export function tryReceiveMessage(
  fd: number,
  name: string,
  buffer: Uint8Array,
  maxFds: number,
  messageSocket: boolean,
  truncate = false,
  withAddress = false,
): RawMessage | null {
  const C = socket();
  const L = socketLayout();
  const controlLen = cmsgSpace(L.ucred.size) + (maxFds > 0 ? cmsgSpace(4 * maxFds) : 0);
  const control = new Uint8Array(controlLen);
  const { hdr, hv, iov } = header(buffer, control);
  const from = withAddress ? new Uint8Array(L.sockaddr_un.size) : null;
  if (from) {
    setPointer(hv, "msg_name", "msghdr", from);
    setField(hv, L.msghdr, "msg_namelen", from.byteLength);
  }
  const flags = C.MSG_CMSG_CLOEXEC | (messageSocket ? C.MSG_TRUNC : 0);
  const n = trySys(() => libc().recvmsg(fd, hdr, flags), "recvmsg", name);
  keepAlive(iov, from);
  if (n === null) return null;
  const msgFlags = getField(hv, L.msghdr, "msg_flags");
  const used = Math.min(getField(hv, L.msghdr, "msg_controllen"), controlLen);
  const { fds, credentials } = parseControl(control, used);
  if (msgFlags & C.MSG_CTRUNC && fds.length < maxFds && maxFds > 0) {
    // There was room for more: the kernel could not install them (fd limit).
    for (const f of fds) f.close();
    throw ipcError({
      code: "EMFILE",
      syscall: "recvmsg",
      object: name,
      detail: "descriptors sent with the message could not be installed: this process is at " +
        "its descriptor limit (RLIMIT_NOFILE); every descriptor that arrived was closed",
      hint: "close descriptors or raise the limit (ulimit -n)",
      limit: "RLIMIT_NOFILE",
    });
  }
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
  const truncated = messageSocket && ((msgFlags & C.MSG_TRUNC) !== 0 || n > buffer.byteLength);
  if (truncated && !truncate) {
    for (const f of fds) f.close();
    throw ipcError({
      code: "EMSGSIZE",
      syscall: "recvmsg",
      object: name,
      detail: `a ${n}-byte message did not fit in ${buffer.byteLength} bytes and was discarded`,
      hint: "pass a larger messageSize, or truncate: true",
      limit: "messageSize",
    });
  }
  const length = Math.min(n, buffer.byteLength);
  if (!from) return { length, fds, credentials, truncated };
  const namelen = Math.min(getField(hv, L.msghdr, "msg_namelen"), from.byteLength);
  return { length, fds, credentials, truncated, address: decodeAddress(from, namelen) };
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
