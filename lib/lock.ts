/**
 * File locks: whole-file `flock` locks (the ones util-linux `flock(1)` takes),
 * open-file-description byte-range locks (`F_OFD_*`), and classic POSIX
 * record locks (`F_SETLK`/`F_SETLKW`/`F_GETLK`), acquired without blocking
 * the event loop and released through `using`.
 *
 * Prefer `"flock"` (the default for whole files) or `"ofd"` (the default for
 * byte ranges). Classic `"posix"` locks belong to the process, not to the
 * handle: they never conflict between two handles of one process, and closing
 * *any* descriptor of the file (a `Deno.readTextFile` of it included) drops
 * them all. They are supported because older peers (C programs, Python
 * `fcntl.lockf`) use them, and `F_GETLK` reports the holder's pid.
 *
 * Waiting: `flock` has no timed form and a blocked `F_OFD_SETLKW` cannot be
 * interrupted (Deno's `SA_RESTART` handlers restart it), so a pool thread
 * parked in one could never be given back. Every wait is therefore a
 * non-blocking attempt on the JS thread, retried with a 1 to 20 ms backoff on
 * timers until it succeeds, the timeout passes or the signal aborts.
 *
 * Opening: {@linkcode openLockFile} is the one way to open a lock file (it
 * opens an existing file unless `create` is given). The lock verbs
 * ({@linkcode lockFile}, {@linkcode tryLockFile}, {@linkcode withLock},
 * {@linkcode singleInstance}) open through it with the same options and
 * create the file by default, as `flock(1)` does.
 *
 * @example Only one copy of a job at a time
 * ```ts
 * import { withLock } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/job.lock";
 * await withLock(path, () => {
 *   console.log("running alone");
 * }, { timeout: 1000 });
 * ```
 *
 * @module
 */
export type { LockKind, LockRequest } from "./_lock_range.ts";
export { FileLock, type LockConflict, LockFile, type LockOptions } from "./_lock_file.ts";
export { openLockFile, type OpenLockFileOptions } from "./_lock_open.ts";
export { lockFile, type LockFileOptions, tryLockFile, withLock } from "./_lock_path.ts";
export { type LockHolder, lockHolders } from "./_lock_holders.ts";
export { type SingleInstance, singleInstance } from "./_single_instance.ts";
