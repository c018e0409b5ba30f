/**
 * Who holds or waits for locks on a file, from `/proc/locks` (read through
 * `lib/_host.ts`), matched by device and inode.
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd, unistdLayout } from "../ffi/unistd.ts";
import { getField } from "../ffi/struct.ts";
import { sys } from "./_errors.ts";
import { checkPath } from "./_validate.ts";
import { readProcText } from "./_host.ts";

/** One lock on a file, as the kernel lists it in `/proc/locks`. */
export interface LockHolder {
  /** `"flock"`, `"posix"`, `"ofd"`, or the kernel's word (`"lease"`...) in lower case. */
  kind: string;
  /** Shared (READ) or exclusive (WRITE). */
  shared: boolean;
  /** The owner's pid as the kernel reports it (`null` when it reports -1). */
  pid: number | null;
  /** The owner's command name (`/proc/PID/comm`), when readable. */
  command?: string;
  /** First byte. */
  start: number;
  /** Last byte, or `null` for "to end of file". */
  end: number | null;
  /** True for a process blocked waiting for this lock rather than holding one. */
  waiting: boolean;
}

const LINE =
  /^\d+:\s+(->\s+)?(\S+)\s+\S+\s+(\S+)\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s+(\d+)\s+(\d+|EOF)/;

/**
 * Every lock on `path` (held or waited for), from `/proc/locks`, matched by
 * device and inode. Read through libc, so it works without `--allow-all`.
 *
 * @example
 * ```ts
 * import { lockFile, lockHolders } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/app.lock";
 * using _lock = await lockFile(path);
 * console.log(lockHolders(path)); // [{ kind: "flock", shared: false, pid: ..., ... }]
 * ```
 * @throws {IpcError} `NotFound` if `path` does not exist.
 */
export function lockHolders(path: string): LockHolder[] {
  checkPath(path, "statx");
  const id = fileId(path);
  const text = readProcText("/proc/locks") ?? "";
  const out: LockHolder[] = [];
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    if (parseInt(m[5], 16) !== id.major || parseInt(m[6], 16) !== id.minor) continue;
    if (m[7] !== id.ino) continue;
    const kind = m[2] === "OFDLCK" ? "ofd" : m[2].toLowerCase();
    const pid = Number(m[4]);
    const holder: LockHolder = {
      kind,
      shared: m[3] === "READ",
      pid: pid > 0 ? pid : null,
      start: Number(m[8]),
      end: m[9] === "EOF" ? null : Number(m[9]),
      waiting: m[1] !== undefined,
    };
    const comm = pid > 0 ? readProcText(`/proc/${pid}/comm`)?.trim() : undefined;
    if (comm) holder.command = comm;
    out.push(holder);
  }
  return out;
}

/** Device major/minor and inode as `/proc/locks` prints them. */
function fileId(path: string): { major: number; minor: number; ino: string } {
  const C = unistd();
  const L = unistdLayout().statx;
  const buf = new Uint8Array(L.size);
  const p = cstr(path);
  sys(
    () => libc().statx(C.AT_FDCWD, p, 0, C.STATX_BASIC_STATS, buf),
    "statx",
    path,
  );
  const v = new DataView(buf.buffer);
  return {
    major: getField(v, L, "stx_dev_major"),
    minor: getField(v, L, "stx_dev_minor"),
    ino: v.getBigUint64(L.fields.stx_ino[0], true).toString(),
  };
}
