/**
 * Shared memory: POSIX objects ({@linkcode createSharedMemory},
 * {@linkcode openSharedMemory}) and anonymous memfd segments
 * ({@linkcode createMemfd}) that a child process inherits, mapped into a
 * {@linkcode SharedMemory} that exposes the region as one `ArrayBuffer`.
 * A name is a slash and 1 to 255 bytes (`NAME_MAX`, UTF-8) with no other slash.
 *
 * After `close()` (or a `resize()`), the old `ArrayBuffer` and every view on
 * it are detached (length 0, reads give `undefined`) before the memory is
 * unmapped, so a stale view can never crash the process.
 *
 * @example Two mappings of one object see the same bytes
 * ```ts
 * import { createSharedMemory, openSharedMemory } from "@ipckit/ipckit";
 * using a = createSharedMemory("/ipckit-doc-shm", { size: 4096 });
 * using b = openSharedMemory("/ipckit-doc-shm");
 * a.remove();
 * a.bytes[0] = 42;
 * console.log(b.bytes[0]); // 42
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { mman } from "../ffi/mman.ts";
import { E } from "../ffi/errno.ts";
import { invalidArgument, IpcError, ipcError, sys, trySys } from "./_errors.ts";
import { statFd, type StatInfo } from "./_stat.ts";
import { checkFlag, checkMode, objectOf, optionsObject } from "./_validate.ts";
import { checkInt, checkPosixName, orDefault } from "./_posix.ts";
import { checkHostSize } from "./_host.ts";
import { checkOwner, trustLevel, type TrustOptions } from "./_trust.ts";
import { fallocate, INTERNAL, SharedMemory } from "./_shm_region.ts";

export { removeSharedMemory, SharedMemory } from "./_shm_region.ts";

/** Options for {@linkcode createSharedMemory} (and `create` of {@linkcode openSharedMemory}). */
export interface CreateSharedMemoryOptions {
  /** Size in bytes (> 0). Space is reserved with `posix_fallocate`, so a full tmpfs is ENOSPC now, not SIGBUS later. */
  size: number;
  /** Permission bits, applied exactly (umask ignored). Default `0o600`. */
  mode?: number;
}

/** Options for {@linkcode openSharedMemory}. */
export interface OpenSharedMemoryOptions extends TrustOptions {
  /**
   * Create the object with these options if it does not exist (an existing
   * one is opened at its size and must pass the trust check).
   */
  create?: CreateSharedMemoryOptions;
  /**
   * Open the object read-only (`O_RDONLY`, enough with read permission). The
   * region is mapped copy-on-write (`MAP_PRIVATE`) rather than `PROT_READ`,
   * because a JS write to a `PROT_READ` page would kill the process with
   * SIGSEGV: here a stray write only changes this process's copy of that page
   * (which then stops seeing other processes' updates) and never reaches the
   * object. Default `false`.
   */
  readOnly?: boolean;
}

/**
 * Options for {@linkcode openSharedMemoryFd}. Whoever holds a writable
 * descriptor of an unsealed object can shrink it, and touching a mapped page
 * past the new end kills this process with SIGBUS. So by default a received
 * descriptor is accepted only if its size is sealed against shrinking
 * (`F_SEAL_SHRINK`, e.g. `createMemfd(…, { sealSize: true })`), or if its
 * owner is this user, root or one of `trustedUids` (a trusted peer, who
 * could still shrink it: see `docs/security.md`). `trust: "any"` accepts any
 * descriptor.
 */
export interface OpenSharedMemoryFdOptions extends TrustOptions {
  /** Map copy-on-write and refuse `resize()` (see {@linkcode OpenSharedMemoryOptions.readOnly}). */
  readOnly?: boolean;
}

/** Options for {@linkcode createMemfd}. */
export interface CreateMemfdOptions {
  /** Size in bytes (> 0). */
  size: number;
  /**
   * Seal the size (`F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL`) so no process
   * holding the descriptor can shrink it under another's mapping (which
   * would kill that process with SIGBUS). Default `false` (resizable).
   */
  sealSize?: boolean;
}

const KIND = { kind: "shared memory object" };

/**
 * Maps `fd` (owned by the caller until this returns) at its fstat size, or at
 * `size` for an object just made. A writable mapping of an existing object
 * first gets its holes allocated (a sparse object a peer made on a full tmpfs
 * would otherwise SIGBUS on a write: here it is ENOSPC).
 */
function region(
  fd: number,
  name: string,
  readOnly: boolean,
  posix: boolean,
  size?: number,
  st: StatInfo = statFd(fd, name),
): SharedMemory {
  if (st.type !== "file") {
    throw invalidArgument("mmap", name, `not a shared-memory object or file (a ${st.type})`);
  }
  const bytes = size ?? st.size;
  if (size === undefined && !readOnly && st.blocks * 512 < st.size) {
    fallocate(fd, st.size, name, st.size - st.blocks * 512);
  } else if (size === undefined) {
    // Mapping more than the address-space limit is refused by mmap itself
    // (ENOMEM), but say which limit it was.
    checkHostSize({ size: bytes, allocate: 0, syscall: "mmap", object: name });
  }
  return new SharedMemory(INTERNAL, {
    fd,
    name,
    size: bytes,
    identity: `${st.dev}:${st.ino}`,
    readOnly,
    posix,
  });
}

function createExclusive(
  name: string,
  options: CreateSharedMemoryOptions,
  orOpen: boolean,
): SharedMemory | null {
  const opts = optionsObject(options, "shm_open", name);
  const size = checkInt(opts.size, "size", "shm_open", name);
  const mode = checkMode(orDefault(opts.mode, 0o600), "shm_open", name);
  checkHostSize({ size, allocate: size, syscall: "shm_open", object: name });
  const C = unistd();
  const c = cstr(name);
  let fd: number;
  try {
    fd = sys(
      () => libc().shm_open(c, C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_CLOEXEC, mode),
      "shm_open",
      name,
      KIND,
    );
  } catch (e) {
    if (orOpen && e instanceof IpcError && e.errno === E().EEXIST) return null;
    throw e;
  }
  try {
    // shm_open applies the umask: set exactly the mode asked for.
    sys(() => libc().fchmod(fd, mode), "fchmod", name);
    fallocate(fd, size, name);
    return region(fd, name, false, true, size);
  } catch (e) {
    libc().close(fd);
    libc().shm_unlink(c);
    throw e;
  }
}

/**
 * Creates the POSIX shared-memory object `name` (exclusively: EEXIST if it
 * exists) with `size` bytes and maps it read-write.
 *
 * @example
 * ```ts
 * import { createSharedMemory } from "@ipckit/ipckit";
 * using shm = createSharedMemory("/ipckit-doc-create-shm", { size: 16 });
 * shm.remove();
 * shm.view.setUint32(0, 7, true);
 * console.log(shm.typed(Uint32Array)[0]); // 7
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name, size 0 or negative (before any
 * syscall); ENAMETOOLONG over `NAME_MAX`; `AlreadyExists` (EEXIST); ENOSPC
 * when /dev/shm is full.
 */
export function createSharedMemory(name: string, options: CreateSharedMemoryOptions): SharedMemory {
  checkPosixName(name, "shm_open");
  return createExclusive(name, options, false)!;
}

/**
 * Opens and maps the existing POSIX shared-memory object `name` at its
 * current size; with `create`, creates it first if it does not exist. An
 * existing object owned by another user or writable by group/others is
 * refused (EPERM) unless `trust: "any"` or its owner is in `trustedUids`.
 *
 * @example
 * ```ts
 * import { createSharedMemory, openSharedMemory } from "@ipckit/ipckit";
 * using a = createSharedMemory("/ipckit-doc-open-shm", { size: 8 });
 * using b = openSharedMemory("/ipckit-doc-open-shm", { readOnly: true });
 * a.remove();
 * console.log(b.size); // 8
 * ```
 *
 * @throws {IpcError} ENAMETOOLONG over `NAME_MAX`; `NotFound` (ENOENT);
 * `PermissionDenied` (EACCES, or EPERM if untrusted).
 */
export function openSharedMemory(
  name: string,
  options: OpenSharedMemoryOptions = {},
): SharedMemory {
  checkPosixName(name, "shm_open");
  options = optionsObject(options, "shm_open", name);
  trustLevel(options, "shm_open", name);
  const readOnly = checkFlag(options.readOnly, "readOnly", "shm_open", name);
  if (options.create !== undefined) {
    if (typeof options.create !== "object" || options.create === null) {
      throw invalidArgument("shm_open", name, "create must be an object of creation options");
    }
    if (readOnly) {
      throw invalidArgument("shm_open", name, "create and readOnly do not go together");
    }
    const made = createExclusive(name, options.create, true);
    if (made) return made;
  }
  const C = unistd();
  const c = cstr(name);
  const fd = sys(
    // O_NONBLOCK: a FIFO planted under the name must not hang a read-only
    // open; the type check below refuses it. Harmless for a regular file.
    () => libc().shm_open(c, (readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_CLOEXEC | C.O_NONBLOCK, 0),
    "shm_open",
    name,
    KIND,
  );
  try {
    const st = statFd(fd, name);
    checkOwner(st, options, "shm_open", name, "shared memory object");
    // Hand the descriptor on as shm_open would have made it (a child that
    // inherits it shares the flag).
    sys(() => libc().fcntl(fd, C.F_SETFL, 0), "fcntl(F_SETFL)", name);
    return region(fd, name, readOnly, true, undefined, st);
  } catch (e) {
    libc().close(fd);
    throw e;
  }
}

/**
 * Maps a shared-memory descriptor this process inherited or received (a
 * memfd from a parent, or a `/dev/shm` file), at its current size. It takes
 * ownership of `fd` only on success: if it throws, `fd` is still open and
 * still the caller's.
 *
 * @example In a child started with `withInheritedFds`
 * ```ts ignore
 * import { openSharedMemoryFd } from "@ipckit/ipckit";
 * using shm = openSharedMemoryFd(Number(Deno.args[0]));
 * console.log(shm.bytes[0]);
 * ```
 *
 * @throws {IpcError} EINVAL if `fd` is not a descriptor number or not a
 * regular file (a memfd or shared-memory object); EBADF if it is not open.
 */
export function openSharedMemoryFd(
  fd: number,
  options: OpenSharedMemoryFdOptions = {},
): SharedMemory {
  checkInt(fd, "fd", "mmap", undefined, { min: 0, max: 0x7fffffff });
  const name = `fd ${fd}`;
  options = optionsObject(options, "mmap", name);
  const trust = trustLevel(options, "mmap", name);
  const readOnly = checkFlag(options.readOnly, "readOnly", "mmap", name);
  const st = statFd(fd, name);
  if (st.type !== "file") {
    throw invalidArgument("mmap", name, `not a shared-memory object or file (a ${st.type})`);
  }
  const C = unistd();
  const access = sys(() => libc().fcntl(fd, C.F_GETFL, 0), "fcntl(F_GETFL)", name) & 3;
  if (!readOnly && access === C.O_RDONLY) {
    throw ipcError({
      code: "EACCES",
      syscall: "mmap",
      object: name,
      detail: "the descriptor is open read-only",
      hint: "pass { readOnly: true }",
    });
  }
  if (trust === "owner" && (sealsOf(fd) & mman().F_SEAL_SHRINK) === 0) {
    // Only the owner matters for a descriptor: nobody can open it by a name,
    // so its mode says nothing (memfds are 0777).
    try {
      checkOwner({ uid: st.uid, mode: 0 }, options, "mmap", name, "shared memory descriptor");
    } catch (e) {
      throw ipcError({
        code: "EPERM",
        syscall: "mmap",
        object: name,
        detail: `untrusted shared memory descriptor: not sealed against shrinking and owned by ` +
          `uid ${st.uid}; its holders could shrink it under the mapping (SIGBUS)`,
        hint: "seal its size first (createMemfd(…, { sealSize: true }), F_SEAL_SHRINK), or pass " +
          '{ trust: "any" } or trustedUids if the sender is trusted',
        cause: e,
      });
    }
  }
  return region(fd, name, readOnly, false, undefined, st);
}

/** The seals of `fd` (`F_GET_SEALS`); 0 for a file that cannot have any. */
function sealsOf(fd: number): number {
  const M = mman();
  return trySys(() => libc().fcntl(fd, M.F_GET_SEALS, 0), "fcntl(F_GET_SEALS)", fd, undefined, [
    "EINVAL",
  ]) ?? 0;
}

/**
 * Creates an anonymous memfd segment of `size` bytes: nothing to remove,
 * nothing can leak, and a child inherits it through `withInheritedFds`.
 *
 * @example Sharing with a child process
 * ```ts
 * import { createMemfd, withInheritedFds } from "@ipckit/ipckit";
 * using seg = createMemfd("frames", { size: 4096, sealSize: true });
 * seg.bytes.set(new TextEncoder().encode("hi"));
 * const child = withInheritedFds([seg.handle], () =>
 *   new Deno.Command("head", { args: ["-c", "2", `/proc/self/fd/${seg.handle.fd}`] }).spawn());
 * await child.status;
 * ```
 *
 * @throws {IpcError} EINVAL for a name over 249 bytes or a bad size; ENOSPC.
 */
export function createMemfd(name: string, options: CreateMemfdOptions): SharedMemory {
  if (
    typeof name !== "string" || name.includes("\0") || name.includes("/") ||
    new TextEncoder().encode(name).length > 249
  ) {
    throw invalidArgument(
      "memfd_create",
      objectOf(name),
      "memfd name must be a string of at most 249 bytes without NUL or slash",
    );
  }
  const opts = optionsObject(options, "memfd_create", name);
  const size = checkInt(opts.size, "size", "memfd_create", name);
  const sealSize = checkFlag(opts.sealSize, "sealSize", "memfd_create", name);
  checkHostSize({ size, allocate: size, syscall: "memfd_create", object: name });
  const M = mman();
  const c = cstr(name);
  const fd = sys(
    () => libc().memfd_create(c, M.MFD_CLOEXEC | M.MFD_ALLOW_SEALING),
    "memfd_create",
    name,
  );
  try {
    fallocate(fd, size, name);
    if (sealSize) {
      sys(
        () => libc().fcntl(fd, M.F_ADD_SEALS, M.F_SEAL_SHRINK | M.F_SEAL_GROW | M.F_SEAL_SEAL),
        "fcntl(F_ADD_SEALS)",
        name,
      );
    }
    return region(fd, `memfd:${name}`, false, false, size);
  } catch (e) {
    libc().close(fd);
    throw e;
  }
}
