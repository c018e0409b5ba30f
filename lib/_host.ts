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
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { direntLayout } from "../ffi/dirent.ts";
import { off } from "../ffi/struct.ts";
import { trySys, trySysPointer } from "./_errors.ts";

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
    return new TextDecoder().decode(concat(chunks));
  } finally {
    lib.close(fd);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
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
  const m = /^MemTotal:\s+(\d+) kB$/m.exec(readProcText("/proc/meminfo") ?? "");
  return m ? Number(m[1]) * 1024 : undefined;
}
