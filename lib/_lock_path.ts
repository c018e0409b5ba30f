/**
 * The lock verbs on a path: {@linkcode lockFile}, {@linkcode tryLockFile}
 * and {@linkcode withLock} open the file through `openLockFile` (creating it
 * by default, as `flock(1)` does) and hand back a lock that closes it.
 *
 * @module
 */
import { objectOf, optionsObject } from "./_validate.ts";
import { invalidArgument } from "./_errors.ts";
import { startWait } from "./wait.ts";
import { checkRequest, type LockRequest, type Range } from "./_lock_range.ts";
import { FileLock, type LockFile, type LockOptions } from "./_lock_file.ts";
import { openLockFile, type OpenLockFileOptions } from "./_lock_open.ts";

/** Options for {@linkcode lockFile} and {@linkcode withLock}. */
export type LockFileOptions = LockOptions & OpenLockFileOptions;

/**
 * Opens through {@linkcode openLockFile} (creating by default), read-write,
 * or read-only when that is refused (EACCES) and the lock needs no write
 * access (`flock`, shared record locks): a lock file another user created
 * with mode 0644, as `flock(1)` does, can still be locked.
 */
function openFor(path: string, options: OpenLockFileOptions, r: Range): LockFile {
  const open = { ...options, create: options.create ?? true };
  if (typeof open.readOnly !== "boolean" && open.readOnly !== undefined) {
    return openLockFile(path, open); // reports the bad option
  }
  try {
    return openLockFile(path, open);
  } catch (e) {
    const readOnlyWorks = r.kind === "flock" || r.shared;
    if (
      options.readOnly !== undefined || !readOnlyWorks ||
      (e as { code?: string }).code !== "EACCES"
    ) {
      throw e;
    }
    return openLockFile(path, { ...open, readOnly: true });
  }
}

/**
 * Opens `path` (creating it, mode `0o600`, unless `create: false`) and locks
 * it, waiting if needed; the lock closes the file when released. By default
 * an exclusive `flock` lock: the one `flock(1)` takes, so it excludes and is
 * excluded by `flock /path command` in a shell.
 *
 * @example
 * ```ts
 * import { lockFile } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/app.lock";
 * using lock = await lockFile(path, { timeout: 5000 });
 * console.log("holding", lock.file.path);
 * ```
 * @throws {IpcError} `TimedOut` (ETIMEDOUT), `IsADirectory` (EISDIR),
 * EINVAL for a bad range or timeout (before the file is opened), open errors.
 */
export async function lockFile(path: string, options: LockFileOptions = {}): Promise<FileLock> {
  const r = checkRequest(options, "lock", path);
  startWait(options, "lock", path); // validate before opening
  const file = openFor(path, options, r);
  try {
    return FileLock.owning(await file.lock(options));
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Like {@linkcode lockFile} but never waits: `null` if the lock is taken.
 *
 * @example
 * ```ts
 * import { tryLockFile } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/app.lock";
 * using lock = tryLockFile(path);
 * if (lock === null) console.log("busy");
 * ```
 */
export function tryLockFile(
  path: string,
  options: LockRequest & OpenLockFileOptions = {},
): FileLock | null {
  const r = checkRequest(options, "lock", path);
  const file = openFor(path, optionsObject(options, "lock", path), r);
  try {
    const lock = file.tryLock(options);
    if (lock === null) {
      file.close();
      return null;
    }
    return FileLock.owning(lock);
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Runs `fn` while holding the lock on `path`, and releases it afterwards,
 * also when `fn` throws.
 *
 * @example
 * ```ts
 * import { withLock } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/counter.lock";
 * const n = await withLock(path, () => 42, { timeout: 1000 });
 * ```
 */
export async function withLock<T>(
  path: string,
  fn: (lock: FileLock) => T | Promise<T>,
  options: LockFileOptions = {},
): Promise<T> {
  if (typeof fn !== "function") {
    throw invalidArgument("lock", objectOf(path), "fn must be a function");
  }
  using lock = await lockFile(path, options);
  return await fn(lock);
}
