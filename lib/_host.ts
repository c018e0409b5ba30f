/**
 * Host information: the one place that reads `/proc`, `/dev/shm`,
 * `/dev/mqueue` and the user database. Everything goes through libc: Deno
 * refuses `/proc/sysvipc`, `/proc/locks`, `/proc/self/task` and other
 * pseudo-files without `--allow-all`, and ipckit already runs with
 * `--allow-ffi`, which grants what the C library can do. So the permissions a
 * user grants are the ones the README lists, and nothing here asks for more.
 *
 * @module
 */
import { concatBytes } from "./_bytes.ts";
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { direntLayout } from "../ffi/dirent.ts";
import { off } from "../ffi/struct.ts";
import { ipcError, sys, trySys, trySysPointer } from "./_errors.ts";
import { mman, mmanLayout } from "../ffi/mman.ts";
import { getField } from "../ffi/struct.ts";

/** The whole text of a (small, pseudo) file, or `null` if it does not exist. */
export function readProcText(path: string): string | null {
  const lib = libc();
  const C = unistd();
  const p = cstr(path);
  const gone = ["ENOENT", "ESRCH"]; // no such file; the task went away
  const fd = trySys(() => lib.open(p, C.O_RDONLY | C.O_CLOEXEC, 0), "open", path, undefined, gone);
  if (fd === null) return null;
  try {
    const chunks: Uint8Array[] = [];
    for (let n: number | null = 1; n !== 0;) {
      const buf = new Uint8Array(65536);
      n = trySys(() => lib.read(fd, buf, BigInt(buf.length)), "read", path, undefined, ["ESRCH"]);
      if (n === null) return null;
      chunks.push(buf.subarray(0, n));
    }
    return new TextDecoder().decode(concatBytes(chunks));
  } finally {
    lib.close(fd);
  }
}

/** Names in a directory (without `.` and `..`), or `null` if it does not exist. */
export function listDir(path: string): string[] | null {
  const lib = libc();
  const p = cstr(path);
  const dir = trySysPointer(() => lib.opendir(p), (d) => d === null, "opendir", path, undefined, [
    "ENOENT",
  ]);
  if (dir === null) return null;
  const nameAt = off(direntLayout().dirent, "d_name");
  const names: string[] = [];
  try {
    for (;;) {
      const ent = lib.readdir(dir);
      if (ent === null) break;
      const name = Deno.UnsafePointerView.getCString(ent, nameAt);
      if (name !== "." && name !== "..") names.push(name);
    }
  } finally {
    lib.closedir(dir);
  }
  return names;
}

/** The first integer in a `/proc/sys` file, or `undefined` if unreadable. */
export function procInt(path: string): number | undefined {
  return procNumbers(path)?.[0];
}

/** The whitespace-separated numbers of a `/proc/sys` file, or `undefined`. */
export function procNumbers(path: string): number[] | undefined {
  let text: string | null;
  try {
    text = readProcText(path);
  } catch {
    return undefined;
  }
  if (text === null) return undefined;
  const nums = text.trim().split(/\s+/).map(Number);
  return nums.every(Number.isFinite) ? nums : undefined;
}

let users: Map<number, string> | undefined;

/** The user name for `uid` from the user database (`/etc/passwd`), or the uid as text. */
export function userName(uid: number): string {
  if (users === undefined) {
    users = new Map();
    try {
      for (const line of (readProcText("/etc/passwd") ?? "").split("\n")) {
        const [name, , id] = line.split(":");
        if (name && id !== undefined && /^\d+$/.test(id)) {
          if (!users.has(Number(id))) users.set(Number(id), name);
        }
      }
    } catch { /* unreadable: owners print as uids */ }
  }
  return users.get(uid) ?? String(uid);
}

/** Total memory of the host in bytes (`MemTotal` of `/proc/meminfo`), or `undefined`. */
export function memTotal(): number | undefined {
  return memInfo().total;
}

/**
 * `/proc/meminfo` in bytes: `total` (MemTotal) and `available` (MemAvailable
 * plus SwapFree: what can still be allocated before the OOM killer runs).
 */
export function memInfo(): { total?: number; available?: number } {
  const text = readProcText("/proc/meminfo") ?? "";
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const avail = kb("MemAvailable");
  return {
    total: kb("MemTotal"),
    available: avail === undefined ? undefined : avail + (kb("SwapFree") ?? 0),
  };
}

/** The soft limit of `resource` in bytes (`getrlimit`); `Infinity` when unlimited. */
export function softLimit(resource: "RLIMIT_FSIZE" | "RLIMIT_AS"): number {
  const L = mmanLayout().rlimit;
  const buf = new Uint8Array(L.size);
  sys(() => libc().getrlimit(mman()[resource], buf), "getrlimit", resource);
  const cur = new DataView(buf.buffer).getBigUint64(L.fields.rlim_cur[0], true);
  return cur >= 2n ** 63n ? Infinity : Number(cur);
}

/**
 * Free bytes (for unprivileged users) of the filesystem behind `fd`
 * (`fstatvfs`), or `Infinity` if it has no size limit (the kernel's own
 * mount behind memfds).
 */
export function freeSpace(fd: number, object: string): number {
  const L = mmanLayout().statvfs;
  const buf = new Uint8Array(L.size);
  sys(() => libc().fstatvfs(fd, buf), "fstatvfs", object);
  const v = new DataView(buf.buffer);
  if (getField(v, L, "f_blocks") === 0) return Infinity;
  return getField(v, L, "f_bavail") * getField(v, L, "f_frsize");
}

/** What {@linkcode checkHostSize} is asked to allow. */
export interface HostSizeRequest {
  /** The object's size after the call (what RLIMIT_FSIZE and RLIMIT_AS limit). */
  size: number;
  /** Bytes the call will allocate (memory and tmpfs space). */
  allocate: number;
  /** The object's descriptor, for its filesystem's free space; omit before it exists. */
  fd?: number;
  /** The call reported in errors. */
  syscall: string;
  /** The object reported in errors. */
  object: string;
}

/**
 * Refuses, before anything is allocated, a shared-memory size this host
 * cannot hold: over `RLIMIT_FSIZE` (EFBIG; growing past it would kill the
 * process with SIGXFSZ), over `RLIMIT_AS` (ENOMEM: it cannot be mapped), an
 * allocation over `MemTotal` or over what is available now
 * (`MemAvailable` + `SwapFree`, ENOMEM: the OOM killer would run), or over
 * the free space of the tmpfs behind `fd` (ENOSPC). Each error names the
 * limit.
 */
export function checkHostSize(req: HostSizeRequest): void {
  const fail = (code: string, limit: string, have: number, what: string) => {
    throw ipcError({
      code,
      syscall: req.syscall,
      object: req.object,
      limit,
      detail: `${what} is more than ${limit} (${have} bytes) allows`,
    });
  };
  const fsize = softLimit("RLIMIT_FSIZE");
  if (req.size > fsize) fail("EFBIG", "RLIMIT_FSIZE", fsize, `a size of ${req.size} bytes`);
  const as = softLimit("RLIMIT_AS");
  if (req.size > as) fail("ENOMEM", "RLIMIT_AS", as, `mapping ${req.size} bytes`);
  if (req.allocate <= 0) return;
  const mem = memInfo();
  const what = `allocating ${req.allocate} bytes`;
  if (mem.total !== undefined && req.allocate > mem.total) {
    fail("ENOMEM", "MemTotal", mem.total, what);
  }
  if (mem.available !== undefined && req.allocate > mem.available) {
    fail("ENOMEM", "MemAvailable", mem.available, what);
  }
  if (req.fd !== undefined) {
    const free = freeSpace(req.fd, req.object);
    if (req.allocate > free) fail("ENOSPC", "tmpfs free space", free, what);
  }
}
