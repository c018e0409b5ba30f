/**
 * {@linkcode singleInstance}: one running copy per lock file, with the pid of
 * a previous copy that died holding it.
 *
 * @module
 */
import { optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { ipcError } from "./_errors.ts";
import { FileLock } from "./_lock_file.ts";
import { openChecked, type OpenLockFileOptions } from "./_lock_open.ts";
import { lockHolders } from "./_lock_holders.ts";
import type { StatInfo } from "./_stat.ts";

/** A running single instance (see {@linkcode singleInstance}). */
export interface SingleInstance extends Disposable {
  /** The lock file. */
  readonly path: string;
  /** The held lock. */
  readonly lock: FileLock;
  /**
   * The pid recorded by a previous instance that ended without releasing
   * (crashed, killed), or `null` when the file was clean.
   */
  readonly stalePid: number | null;
  /** Clears the recorded pid and releases the lock. Idempotent. */
  release(): void;
}

/** Largest content a pid file may have: a pid, a newline, some blanks. */
const PID_FILE_MAX = 32;

/**
 * Why an existing file must not receive our pid, or `null` if it may: the
 * file must be owned by this user or one of `trustedUids` (root's files are
 * trusted for locking, never for writing unless this is root), have one
 * link (a hard link could point at any file of its owner), and hold nothing
 * but a pid.
 */
function refuseWrite(info: StatInfo, text: string, trustedUids: readonly number[]): string | null {
  const me = libc().geteuid();
  if (info.uid !== me && !trustedUids.includes(info.uid)) {
    return `owned by uid ${info.uid}: singleInstance writes its pid only into this user's files`;
  }
  if (info.nlink !== 1) return `has ${info.nlink} hard links, so it may be another file too`;
  if (info.size > PID_FILE_MAX || !/^\s*(\d+\s*)?$/.test(text)) {
    return "does not look like a pid file (it holds something else)";
  }
  return null;
}

/**
 * Makes sure only one process runs with this lock file: takes an exclusive
 * `flock` lock without waiting, and writes this process's pid into the file
 * (created, mode `0o600`, unless `create: false`). The kernel drops the lock
 * when a holder dies, however it dies, so a leftover file never blocks the
 * next run; its recorded pid is reported as `stalePid`. The file is never
 * unlinked (unlinking lock files races).
 *
 * The pid is written only into a file this call created, or an existing
 * one this user (or one of `trustedUids`) owns that has one link and holds
 * nothing but a pid: a planted symlink (`ELOOP`), a foreign or root-owned
 * file, a hard link or a file with other content (`EPERM`) is never
 * written or truncated.
 *
 * @example
 * ```ts
 * import { singleInstance } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/cron-job.lock";
 * using instance = singleInstance(path);
 * if (instance.stalePid !== null) console.log("previous run", instance.stalePid, "died");
 * ```
 * @throws {IpcError} `Busy` (EBUSY) when another process holds the lock; its
 * message names the holder's pid. `PermissionDenied` (EPERM) for a file it
 * must not write; ELOOP for a symbolic link; EINVAL for bad options.
 */
export function singleInstance(path: string, options: OpenLockFileOptions = {}): SingleInstance {
  const o = optionsObject(options, "open", path);
  const { file, created, info } = openChecked(path, {
    ...o,
    create: o.create ?? true,
    readOnly: false,
  });
  let lock: FileLock | null;
  try {
    lock = file.tryLock();
  } catch (e) {
    file.close();
    throw e;
  }
  if (lock === null) {
    file.close();
    let pid: number | null = null;
    try {
      pid = lockHolders(path).find((h) => !h.waiting && h.pid !== null)?.pid ?? null;
    } catch { /* the holder list is only for the message */ }
    throw ipcError({
      code: "EBUSY",
      syscall: "flock",
      object: path,
      detail: `another instance${pid === null ? "" : ` (pid ${pid})`} holds the lock`,
    });
  }
  lock = FileLock.owning(lock);
  let stalePid: number | null = null;
  try {
    const buf = new Uint8Array(PID_FILE_MAX + 1);
    const n = file.readAt(buf, 0);
    const text = new TextDecoder().decode(buf.subarray(0, n));
    if (!created) {
      const why = refuseWrite(info, text, o.trustedUids ?? []);
      if (why !== null) {
        throw ipcError({
          code: "EPERM",
          syscall: "open",
          object: path,
          detail: `will not write a pid into this file: it ${why}`,
          hint: "use a pid file path of your own",
        });
      }
    }
    const recorded = Number(text.trim());
    if (text.trim() !== "" && Number.isSafeInteger(recorded) && recorded > 0) {
      stalePid = recorded;
    }
    file.truncate(0);
    file.writeAt(new TextEncoder().encode(`${Deno.pid}\n`), 0);
  } catch (e) {
    lock.release();
    throw e;
  }
  let done = false;
  const held = lock;
  const release = () => {
    if (done) return;
    done = true;
    try {
      if (!file.closed) file.truncate(0);
    } finally {
      held.release();
    }
  };
  return { path, lock: held, stalePid, release, [Symbol.dispose]: release };
}
