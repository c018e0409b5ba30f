/**
 * `statx()` with its arch-independent layout: type, mode, owner and size of a
 * descriptor or path, for the type checks and the owner/mode checks made
 * before trusting an object someone else may have created.
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd, unistdLayout } from "../ffi/unistd.ts";
import { getField } from "../ffi/struct.ts";
import { sys } from "./_errors.ts";

/** What {@linkcode statFd} and {@linkcode statPath} report. */
export interface StatInfo {
  /** File type. */
  type: "fifo" | "file" | "directory" | "socket" | "char" | "other";
  /** Permission bits (`0o600`). */
  mode: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Size in bytes. */
  size: number;
  /** 512-byte blocks allocated (less than `size` for a sparse file). */
  blocks: number;
  /** Inode number. */
  ino: number;
  /** Hard links to the inode. */
  nlink: number;
  /** Device as `major:minor` (the form `/proc/locks` and `/proc/self/maps` use, in decimal). */
  dev: string;
}

function decode(buf: Uint8Array): StatInfo {
  const C = unistd();
  const L = unistdLayout().statx;
  const v = new DataView(buf.buffer);
  const raw = getField(v, L, "stx_mode");
  const fmt = raw & C.S_IFMT;
  const type = fmt === C.S_IFIFO
    ? "fifo"
    : fmt === C.S_IFREG
    ? "file"
    : fmt === C.S_IFDIR
    ? "directory"
    : fmt === C.S_IFSOCK
    ? "socket"
    : fmt === C.S_IFCHR
    ? "char"
    : "other";
  return {
    type,
    mode: raw & 0o7777,
    uid: getField(v, L, "stx_uid"),
    gid: getField(v, L, "stx_gid"),
    size: getField(v, L, "stx_size"),
    blocks: getField(v, L, "stx_blocks"),
    ino: getField(v, L, "stx_ino"),
    nlink: getField(v, L, "stx_nlink"),
    dev: `${getField(v, L, "stx_dev_major")}:${getField(v, L, "stx_dev_minor")}`,
  };
}

const empty = new Uint8Array(1);

/** `statx(fd, "", AT_EMPTY_PATH)`. */
export function statFd(fd: number, name: string | number = fd): StatInfo {
  const C = unistd();
  const buf = new Uint8Array(unistdLayout().statx.size);
  sys(
    () => libc().statx(fd, empty, C.AT_EMPTY_PATH, C.STATX_BASIC_STATS, buf),
    "statx",
    name,
  );
  return decode(buf);
}

/** `statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW)`: a symlink is reported as "other". */
export function statPath(
  path: string,
  as: { syscall: string; object: string; kind?: string } = { syscall: "statx", object: path },
): StatInfo {
  const C = unistd();
  const buf = new Uint8Array(unistdLayout().statx.size);
  const p = cstr(path);
  // `as` names the failure the way the caller's user sees it (`shm_open "/x"`,
  // not `statx "/dev/shm/x"`).
  sys(
    () => libc().statx(C.AT_FDCWD, p, C.AT_SYMLINK_NOFOLLOW, C.STATX_BASIC_STATS, buf),
    as.syscall,
    as.object,
    { kind: as.kind },
  );
  return decode(buf);
}
