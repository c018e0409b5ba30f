/**
 * {@linkcode openLockFile}, the one way a lock file is opened: never through
 * a symlink, created exclusively with its exact mode, an existing file only
 * if it passes the trust rule.
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { invalidArgument, IpcError, ipcError, sys, trySys } from "./_errors.ts";
import { statFd, type StatInfo } from "./_stat.ts";
import { checkOwner, trustLevel } from "./_trust.ts";
import { checkFlag, checkMode, checkPath, optionsObject } from "./_validate.ts";
import { LockFile } from "./_lock_file.ts";

/** How {@linkcode openLockFile} opens the file. */
export interface OpenLockFileOptions {
  /**
   * Create the file if it is missing (with `O_EXCL`, then `fchmod`, so the
   * umask does not apply): `true` for mode `0o600`, or `{ mode }`.
   * {@linkcode openLockFile} defaults to `false` (the file must exist); the
   * lock verbs (`lockFile`, `tryLockFile`,
   * `withLock`, `singleInstance`) default to `true`, as `flock(1)` does.
   */
  create?: boolean | { mode?: number };
  /**
   * Open read-only: enough for `flock` locks and shared record locks (an
   * exclusive record lock then fails with `EBADF`). Default `false`.
   */
  readOnly?: boolean;
  /**
   * `"owner"` (default): refuse (`PermissionDenied`, EPERM) an existing file
   * whose owner is not this user, root or one of `trustedUids`, or that group
   * or others may write: someone may have planted it. `"any"`: accept any.
   */
  trust?: "owner" | "any";
  /** Further uids trusted as owners (with `trust: "owner"`). */
  trustedUids?: readonly number[];
}

/** The mode a `create` option asks for, or `null` for "do not create". */
export function createMode(
  create: OpenLockFileOptions["create"],
  syscall: string,
  path: string,
): number | null {
  if (create === undefined || create === false) return null;
  if (create === true) return 0o600;
  if (typeof create !== "object" || create === null) {
    throw invalidArgument(syscall, path, "create must be a boolean or { mode }");
  }
  return checkMode(create.mode ?? 0o600, syscall, path);
}

/** What {@linkcode openPath} opened. */
export interface Opened {
  /** The descriptor. */
  fd: number;
  /** Whether this call created the file (`O_EXCL` succeeded). */
  created: boolean;
}

/**
 * Opens `path` (creating it with `mode` when not null) without following a
 * symlink in its last component (`O_NOFOLLOW`; `O_EXCL` never follows one
 * either). With `directory`, a directory is opened read-only, as `flock(1)`
 * does.
 */
function openPath(
  path: string,
  mode: number | null,
  readOnly: boolean,
  directory: boolean,
): Opened {
  const C = unistd();
  const lib = libc();
  const p = cstr(path);
  // O_NONBLOCK: opening a FIFO by mistake must not block the event loop.
  const base = (readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_CLOEXEC | C.O_NOCTTY | C.O_NONBLOCK |
    C.O_NOFOLLOW;
  const ctx = { kind: "file" };
  const existing = (wouldBlock: string[]): number | null => {
    try {
      return trySys(() => lib.open(p, base, 0), "open", path, ctx, wouldBlock);
    } catch (e) {
      if (!(e instanceof IpcError)) throw e;
      if (e.code === "EISDIR" && directory) {
        const ro = C.O_RDONLY | C.O_DIRECTORY | C.O_CLOEXEC | C.O_NOCTTY | C.O_NOFOLLOW;
        return sys(() => lib.open(p, ro, 0), "open", path, ctx);
      }
      if (e.code === "ELOOP") {
        throw ipcError({
          code: "ELOOP",
          syscall: "open",
          object: path,
          detail: "is a symbolic link, and lock files are never opened through one " +
            "(someone may have planted it)",
          hint: "give the path of the file it points to if that is intended",
        });
      }
      throw e;
    }
  };
  for (let tries = 0;; tries++) {
    const retry = tries <= 3;
    if (mode !== null) {
      const created = trySys(
        () => lib.open(p, base | C.O_CREAT | C.O_EXCL, mode),
        "open",
        path,
        ctx,
        retry ? ["EEXIST"] : [],
      );
      if (created !== null) {
        sys(() => lib.fchmod(created, mode), "fchmod", path);
        return { fd: created, created: true };
      }
    }
    // Removed between the two opens: create it again.
    const fd = existing(mode !== null && retry ? ["ENOENT"] : []);
    if (fd !== null) return { fd, created: false };
  }
}

/** How the internal opener may be asked to open. */
export interface OpenHow {
  /** Accept a directory (opened read-only), as `flock(1)` does. */
  directory?: boolean;
}

/**
 * The checked open behind {@linkcode openLockFile}: the file, whether this
 * call created it, and what `fstat` said about it.
 */
export function openChecked(
  path: string,
  options: OpenLockFileOptions | undefined,
  how: OpenHow = {},
): { file: LockFile; created: boolean; info: StatInfo } {
  checkPath(path, "open");
  const o = optionsObject(options, "open", path);
  const mode = createMode(o.create, "open", path);
  trustLevel(o, "open", path);
  const readOnly = checkFlag(o.readOnly, "readOnly", "open", path);
  const { fd, created } = openPath(path, mode, readOnly, how.directory ?? false);
  const file = new LockFile(fd, path);
  try {
    const info = statFd(file.fd, path);
    if (info.type === "directory" && !how.directory) {
      throw ipcError({ code: "EISDIR", syscall: "open", object: path, detail: "is a directory" });
    }
    if (info.type !== "file" && info.type !== "directory") {
      throw invalidArgument("open", path, `not a regular file (it is a ${info.type})`);
    }
    if (!created) {
      checkOwner({ uid: info.uid, mode: info.mode }, o, "open", path, "lock file");
    }
    return { file, created, info };
  } catch (e) {
    file.close();
    throw e;
  }
}

/**
 * Opens a regular file for locking: an existing one, or, with `create`, one
 * made with mode `0o600` (or `create: { mode }`) if missing. The one way to
 * open a lock file; the lock verbs (`lockFile` and friends) open
 * through it.
 *
 * A symbolic link as the last component of `path` is never followed
 * (`O_NOFOLLOW`): it fails with `ELOOP`. Directories above it are resolved
 * as usual, so keep lock files in a directory that only trusted users can
 * change (see docs/signals-locks.md, "Planted files").
 *
 * @example Updating one record of a shared file under a byte-range lock
 * ```ts
 * import { openLockFile } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/records";
 * using file = openLockFile(path, { create: true });
 * {
 *   using _lock = await file.lock({ start: 16, length: 16, timeout: 1000 });
 *   file.writeAt(new TextEncoder().encode("record #1       "), 16);
 * }
 * ```
 * @throws {IpcError} `NotFound` (ENOENT) for a missing file without
 * `create`; `IsADirectory` (EISDIR) for a directory, EINVAL for anything
 * else that is not a regular file and for bad options; ELOOP for a symbolic
 * link; `PermissionDenied` (EACCES) from open, or (EPERM) for an existing
 * file that fails the `trust` rule.
 */
export function openLockFile(path: string, options: OpenLockFileOptions = {}): LockFile {
  return openChecked(path, options).file;
}
