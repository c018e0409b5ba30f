/**
 * Shared memory: POSIX objects ({@linkcode createSharedMemory},
 * {@linkcode openSharedMemory}) and anonymous memfd segments
 * ({@linkcode createMemfd}) that a child process inherits, mapped into a
 * {@linkcode SharedMemory} that exposes the region as one `ArrayBuffer`.
 *
 * After `close()` (or a `resize()`), the old `ArrayBuffer` and every view on
 * it are detached (length 0, reads give `undefined`) before the memory is
 * unmapped, so a stale view can never crash the process. Do not `transfer()`
 * the buffer yourself.
 *
 * @example Two mappings of one object see the same bytes
 * ```ts
 * import { createSharedMemory, openSharedMemory } from "@ipckit/ipckit";
 * using a = createSharedMemory("/ipckit-doc-shm", { size: 4096 });
 * using b = openSharedMemory("/ipckit-doc-shm");
 * a.unlink();
 * a.bytes[0] = 42;
 * console.log(b.bytes[0]); // 42
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { mman } from "../ffi/mman.ts";
import { E, ERRNO } from "../ffi/errno.ts";
import { closedError, invalidArgument, ipcError, sys, sysOnce } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import { statFd } from "./_stat.ts";
import { checkMode } from "./_validate.ts";
import { checkInt, checkPosixName, checkTrusted, type TrustOptions } from "./_posix.ts";

/** Options for {@linkcode createSharedMemory}. */
export interface CreateSharedMemoryOptions {
  /** Size in bytes (> 0). Space is reserved with `posix_fallocate`, so a full tmpfs is ENOSPC now, not SIGBUS later. */
  size: number;
  /** Permission bits, applied exactly (umask ignored). Default `0o600`. */
  mode?: number;
}

/** Options for {@linkcode openSharedMemory} and {@linkcode mapSharedMemoryFd}. */
export interface OpenSharedMemoryOptions extends TrustOptions {
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

interface Internals {
  ptr: Deno.PointerValue;
  pins: number;
  unmapPending: { ptr: Deno.PointerValue; len: number }[];
}

const internals = new WeakMap<SharedMemory, Internals>();

function mapFailed(p: Deno.PointerValue): boolean {
  if (p === null) return true;
  return BigInt(Deno.UnsafePointer.value(p)) === BigInt.asUintN(64, BigInt(mman().MAP_FAILED));
}

function mapRegion(fd: number, size: number, readOnly: boolean, name: string): Deno.PointerValue {
  const M = mman();
  // Read-only: copy-on-write, so a stray JS write cannot SIGSEGV (see readOnly).
  const flags = readOnly ? M.MAP_PRIVATE : M.MAP_SHARED;
  const p = libc().mmap(null, BigInt(size), M.PROT_READ | M.PROT_WRITE, flags, fd, 0n);
  const e = ERRNO[0];
  if (mapFailed(p)) throw ipcError({ errno: e, syscall: "mmap", object: name });
  return p;
}

function fallocate(fd: number, size: number, name: string): void {
  for (;;) {
    const r = libc().posix_fallocate(fd, 0n, BigInt(size));
    if (r === 0) return;
    if (r === E().EINTR) continue;
    throw ipcError({
      errno: r,
      syscall: "posix_fallocate",
      object: name,
      hint: r === E().ENOSPC ? "the tmpfs behind it (/dev/shm or memfd) is full" : undefined,
    });
  }
}

/**
 * A mapped shared-memory region. `buffer`, `bytes` and `view` cover the whole
 * region; `typed()` makes other views. Close it with `close()` or `using`.
 */
export class SharedMemory implements Disposable {
  readonly #handle: FdHandle;
  /** The object's name (`"/frames"`), or `"memfd:<name>"` for a memfd. */
  readonly name: string;
  /** Whether the mapping is read-only. */
  readonly readOnly: boolean;
  readonly #posix: boolean;
  #size: number;
  #buffer: ArrayBuffer;
  #bytes: Uint8Array<ArrayBuffer>;
  #view: DataView<ArrayBuffer>;

  /** Maps `size` bytes of the open descriptor `fd`, taking ownership of it. Prefer the factory functions. */
  constructor(fd: number, name: string, size: number, readOnly: boolean, posix: boolean) {
    this.#handle = new FdHandle(fd, { name });
    this.name = name;
    this.readOnly = readOnly;
    this.#posix = posix;
    this.#size = size;
    const st: Internals = { ptr: null, pins: 0, unmapPending: [] };
    internals.set(this, st);
    if (size > 0) {
      try {
        st.ptr = mapRegion(fd, size, readOnly, name);
      } catch (e) {
        this.#handle.close();
        throw e;
      }
      this.#buffer = Deno.UnsafePointerView.getArrayBuffer(st.ptr!, size);
    } else {
      this.#buffer = new ArrayBuffer(0);
    }
    this.#bytes = new Uint8Array(this.#buffer);
    this.#view = new DataView(this.#buffer);
  }

  #live(op: string): void {
    if (this.#handle.closed) throw closedError(op, this.name);
  }

  /** Size of the mapping in bytes. */
  get size(): number {
    this.#live("size");
    return this.#size;
  }

  /** The whole region as one ArrayBuffer (detached after close or resize). */
  get buffer(): ArrayBuffer {
    this.#live("buffer");
    return this.#buffer;
  }

  /** The whole region as bytes. */
  get bytes(): Uint8Array<ArrayBuffer> {
    this.#live("bytes");
    return this.#bytes;
  }

  /** The whole region as a DataView. */
  get view(): DataView<ArrayBuffer> {
    this.#live("view");
    return this.#view;
  }

  /**
   * A typed view over `length` elements from byte `offset` (checked against
   * the region and the element alignment).
   */
  typed<T extends ArrayBufferView>(
    Ctor: new (buffer: ArrayBuffer, byteOffset: number, length: number) => T,
    offset = 0,
    length?: number,
  ): T {
    this.#live("typed");
    const bpe = (Ctor as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    const n = length ?? Math.floor((this.#size - offset) / bpe);
    if (
      !Number.isInteger(offset) || offset < 0 || offset % bpe !== 0 || !Number.isInteger(n) ||
      n < 0 || offset + n * bpe > this.#size
    ) {
      throw invalidArgument(
        "typed",
        this.name,
        `offset ${offset} and length ${n} do not fit a ${this.#size}-byte region ` +
          `in ${bpe}-byte elements`,
      );
    }
    return new Ctor(this.#buffer, offset, n);
  }

  /** The descriptor, e.g. to hand a memfd to a child with `withInheritedFds([shm.handle], ...)`. */
  get handle(): FdHandle {
    this.#live("handle");
    return this.#handle;
  }

  /** Flushes the mapping (`msync`, `MS_SYNC` unless `async`). Matters for file-backed maps; cheap on tmpfs. */
  sync(options: { async?: boolean } = {}): void {
    this.#live("msync");
    const st = internals.get(this)!;
    if (this.#size === 0) return;
    const M = mman();
    sys(
      () => libc().msync(st.ptr, BigInt(this.#size), options.async ? M.MS_ASYNC : M.MS_SYNC),
      "msync",
      this.name,
    );
  }

  /**
   * Changes the object's size (growing with `posix_fallocate`, shrinking with
   * `ftruncate`) and remaps it. The old buffer and its views are detached.
   * Other processes must remap too before touching bytes past a shrink.
   *
   * @throws {IpcError} EINVAL for a bad size; EPERM on a size-sealed memfd; ENOSPC.
   */
  resize(size: number): void {
    this.#live("resize");
    checkInt(size, "size", "resize", this.name);
    if (this.readOnly) throw invalidArgument("resize", this.name, "the mapping is read-only");
    const fd = this.#handle.fd;
    if (size > this.#size) fallocate(fd, size, this.name);
    else if (size < this.#size) {
      sys(() => libc().ftruncate(fd, BigInt(size)), "ftruncate", this.name);
    }
    const ptr = mapRegion(fd, size, false, this.name);
    this.#unmap();
    const st = internals.get(this)!;
    st.ptr = ptr;
    this.#size = size;
    this.#buffer = Deno.UnsafePointerView.getArrayBuffer(ptr!, size);
    this.#bytes = new Uint8Array(this.#buffer);
    this.#view = new DataView(this.#buffer);
  }

  /** Seals a memfd's size: no process can grow or shrink it from now on. */
  sealSize(): void {
    const M = mman();
    const fd = this.handle.fd;
    sys(
      () => libc().fcntl(fd, M.F_ADD_SEALS, M.F_SEAL_SHRINK | M.F_SEAL_GROW | M.F_SEAL_SEAL),
      "fcntl(F_ADD_SEALS)",
      this.name,
    );
  }

  /** Detaches the current buffer, then unmaps it (deferred while an unnamed semaphore in it is waited on). */
  #unmap(): void {
    const st = internals.get(this)!;
    // Detach first: every view now reads length 0 instead of touching unmapped memory.
    this.#buffer.transfer(0);
    if (st.ptr !== null) {
      st.unmapPending.push({ ptr: st.ptr, len: this.#size });
      st.ptr = null;
    }
    drain(st);
  }

  /** Removes the POSIX object's name (processes that mapped it keep the memory). */
  unlink(): void {
    if (!this.#posix) {
      throw invalidArgument("shm_unlink", this.name, "a memfd has no name to remove");
    }
    unlinkSharedMemory(this.name);
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Detaches every view, unmaps and closes. Idempotent. */
  close(): void {
    if (this.#handle.closed) return;
    this.#unmap();
    this.#handle.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function drain(st: Internals): void {
  if (st.pins > 0) return;
  for (const { ptr, len } of st.unmapPending.splice(0)) {
    sysOnce(() => libc().munmap(ptr, BigInt(len)), "munmap");
  }
}

/**
 * For semaphores placed in a region: the address at `offset`, and a pin that
 * keeps the memory mapped (unmapping is deferred) until released. Internal.
 */
export function pinRegion(
  shm: SharedMemory,
  offset: number,
  length: number,
): { ptr: Deno.PointerObject; unpin(): void } {
  const st = internals.get(shm);
  if (!st || shm.closed || st.ptr === null) throw closedError("sem_init", shm.name);
  if (!Number.isInteger(offset) || offset < 0 || offset % 8 !== 0 || offset + length > shm.size) {
    throw invalidArgument(
      "sem_init",
      shm.name,
      `offset ${offset} must be a multiple of 8 with ${length} bytes inside the ${shm.size}-byte region`,
    );
  }
  if (shm.readOnly) throw invalidArgument("sem_init", shm.name, "the mapping is read-only");
  st.pins++;
  let done = false;
  return {
    ptr: Deno.UnsafePointer.offset(st.ptr as Deno.PointerObject, offset)!,
    unpin() {
      if (done) return;
      done = true;
      st.pins--;
      drain(st);
    },
  };
}

/** Whether `shm`'s mapping at the time of a pin is still the live one. Internal. */
export function regionLive(shm: SharedMemory): boolean {
  const st = internals.get(shm);
  return !!st && !shm.closed && st.ptr !== null;
}

function openFd(name: string, flags: number, mode: number): number {
  const c = cstr(name);
  return sys(() => libc().shm_open(c, flags, mode), "shm_open", name, {
    kind: "shared memory object",
  });
}

/**
 * Creates the POSIX shared-memory object `name` (exclusively) with `size`
 * bytes and maps it read-write.
 *
 * @example
 * ```ts
 * import { createSharedMemory } from "@ipckit/ipckit";
 * using shm = createSharedMemory("/ipckit-doc-create-shm", { size: 16 });
 * shm.unlink();
 * shm.view.setUint32(0, 7, true);
 * console.log(shm.typed(Uint32Array)[0]); // 7
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name, size 0 or negative (before any syscall);
 * `AlreadyExists` (EEXIST); ENOSPC when /dev/shm is full.
 */
export function createSharedMemory(name: string, options: CreateSharedMemoryOptions): SharedMemory {
  checkPosixName(name, "shm_open");
  const size = checkInt(options?.size, "size", "shm_open", name);
  const mode = checkMode(options.mode ?? 0o600, "shm_open", name);
  const C = unistd();
  const fd = openFd(name, C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_CLOEXEC, mode);
  try {
    sys(() => libc().fchmod(fd, mode), "fchmod", name);
    fallocate(fd, size, name);
  } catch (e) {
    libc().close(fd);
    libc().shm_unlink(cstr(name));
    throw e;
  }
  try {
    return new SharedMemory(fd, name, size, false, true);
  } catch (e) {
    libc().shm_unlink(cstr(name));
    throw e;
  }
}

/**
 * Opens and maps the existing POSIX shared-memory object `name` at its
 * current size. Refuses (EPERM) an object owned by another user or writable
 * by group/others unless `trustAnyOwner`.
 *
 * @example
 * ```ts
 * import { createSharedMemory, openSharedMemory } from "@ipckit/ipckit";
 * using a = createSharedMemory("/ipckit-doc-open-shm", { size: 8 });
 * using b = openSharedMemory("/ipckit-doc-open-shm", { readOnly: true });
 * a.unlink();
 * console.log(b.size); // 8
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT); `PermissionDenied` (EACCES, or EPERM if untrusted).
 */
export function openSharedMemory(
  name: string,
  options: OpenSharedMemoryOptions = {},
): SharedMemory {
  checkPosixName(name, "shm_open");
  const C = unistd();
  const readOnly = options.readOnly ?? false;
  const fd = openFd(name, (readOnly ? C.O_RDONLY : C.O_RDWR) | C.O_CLOEXEC, 0);
  let size: number;
  try {
    const st = statFd(fd, name);
    checkTrusted(st, "shm_open", name, "shared memory object", options);
    size = st.size;
  } catch (e) {
    libc().close(fd);
    throw e;
  }
  return new SharedMemory(fd, name, size, readOnly, true);
}

/**
 * Maps a shared-memory descriptor this process inherited or received (a
 * memfd from a parent, or a `/dev/shm` file), at its current size. Takes
 * ownership of `fd`.
 *
 * @example In a child started with `withInheritedFds`
 * ```ts ignore
 * import { mapSharedMemoryFd } from "@ipckit/ipckit";
 * using shm = mapSharedMemoryFd(Number(Deno.args[0]));
 * console.log(shm.bytes[0]);
 * ```
 *
 * @throws {IpcError} EBADF if `fd` is not open.
 */
export function mapSharedMemoryFd(fd: number, options: OpenSharedMemoryOptions = {}): SharedMemory {
  checkInt(fd, "fd", "mmap", undefined, { min: 0, max: 0x7fffffff });
  const st = statFd(fd);
  return new SharedMemory(fd, `fd ${fd}`, st.size, options.readOnly ?? false, false);
}

/**
 * Creates an anonymous memfd segment of `size` bytes: nothing to unlink,
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
      String(name),
      "memfd name must be a string of at most 249 bytes without NUL or slash",
    );
  }
  const size = checkInt(options?.size, "size", "memfd_create", name);
  const M = mman();
  const c = cstr(name);
  const fd = sys(
    () => libc().memfd_create(c, M.MFD_CLOEXEC | M.MFD_ALLOW_SEALING),
    "memfd_create",
    name,
  );
  try {
    fallocate(fd, size, name);
    if (options.sealSize) {
      sys(
        () => libc().fcntl(fd, M.F_ADD_SEALS, M.F_SEAL_SHRINK | M.F_SEAL_GROW | M.F_SEAL_SEAL),
        "fcntl(F_ADD_SEALS)",
        name,
      );
    }
  } catch (e) {
    libc().close(fd);
    throw e;
  }
  return new SharedMemory(fd, `memfd:${name}`, size, false, false);
}

/**
 * Removes the POSIX shared-memory object `name`.
 *
 * @example
 * ```ts
 * import { createSharedMemory, unlinkSharedMemory } from "@ipckit/ipckit";
 * createSharedMemory("/ipckit-doc-rm-shm", { size: 1 }).close();
 * unlinkSharedMemory("/ipckit-doc-rm-shm");
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT); `PermissionDenied` (EACCES).
 */
export function unlinkSharedMemory(name: string): void {
  checkPosixName(name, "shm_unlink");
  const c = cstr(name);
  sys(() => libc().shm_unlink(c), "shm_unlink", name, { kind: "shared memory object" });
}
