/**
 * {@linkcode singleInstance}: one running copy per lock file, with the pid of
 * a previous copy that died holding it.
 *
 * @module
 */
import { ipcError } from "./_errors.ts";
import type { FileLock, OpenLockFileOptions } from "./_lock_file.ts";
import { tryLockFile } from "./_lock_path.ts";
import { lockHolders } from "./_lock_holders.ts";

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

/**
 * Makes sure only one process runs with this lock file: takes an exclusive
 * `flock` lock without waiting, and writes this process's pid into the file
 * (created, mode `0o600`, unless `create: false`). The kernel drops the lock
 * when a holder dies, however it dies, so a leftover file never blocks the
 * next run; its recorded pid is reported as `stalePid`. The file is never
 * unlinked (unlinking lock files races).
 *
 * @example
 * ```ts
 * import { singleInstance } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/cron-job.lock";
 * using instance = singleInstance(path);
 * if (instance.stalePid !== null) console.log("previous run", instance.stalePid, "died");
 * ```
 * @throws {IpcError} `Busy` (EBUSY) when another process holds the lock; its
 * message names the holder's pid.
 */
export function singleInstance(path: string, options: OpenLockFileOptions = {}): SingleInstance {
  const lock = tryLockFile(path, { ...options, readOnly: false });
  if (lock === null) {
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
  const file = lock.file;
  let stalePid: number | null = null;
  try {
    const buf = new Uint8Array(32);
    const n = file.readAt(buf, 0);
    const recorded = Number(new TextDecoder().decode(buf.subarray(0, n)).trim());
    if (Number.isSafeInteger(recorded) && recorded > 0) stalePid = recorded;
    file.truncate(0);
    file.writeAt(new TextEncoder().encode(`${Deno.pid}\n`), 0);
  } catch (e) {
    lock.release();
    throw e;
  }
  let done = false;
  const release = () => {
    if (done) return;
    done = true;
    try {
      if (!file.closed) file.truncate(0);
    } finally {
      lock.release();
    }
  };
  return { path, lock, stalePid, release, [Symbol.dispose]: release };
}
