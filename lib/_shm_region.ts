/**
 * The mapped shared-memory handle ({@linkcode SharedMemory}) on the one
 * mapping owner (`_mapping.ts`), and the pins that keep an in-region
 * semaphore's memory mapped and its object from being shrunk under it.
 * Opening and creating live in `shm.ts`, the public surface.
 *
 * @module
 */
import { checkFlag, describe, optionsObject } from "./_validate.ts";
import { cstr, libc } from "../ffi/libc.ts";
import { mman } from "../ffi/mman.ts";
import { closedError, invalidArgument, IpcError, ipcError, sys, sysReturn } from "./_errors.ts";
import { FdHandle } from "./fd.ts";
import { Mapping } from "./_mapping.ts";
import { checkInt, checkPosixName } from "./_posix.ts";
import { checkHostSize } from "./_host.ts";

/** Proves a constructor call comes from this package's factory functions. */
export const INTERNAL: unique symbol = Symbol("ipckit.SharedMemory");

const TypedArray = Object.getPrototypeOf(Uint8Array);

/** Live pins per object identity: the end offset of each. */
const pins = new Map<string, Map<symbol, number>>();

type Pin = { ptr: Deno.PointerObject; unpin(): void };
let pinImpl: (shm: SharedMemory, offset: number, length: number, op: string) => Pin;

function pinnedEnd(identity: string): number {
  let most = 0;
  for (const end of pins.get(identity)?.values() ?? []) most = Math.max(most, end);
  return most;
}

/**
 * Allocates every page of the first `size` bytes of `fd` (`posix_fallocate`)
 * so that no write through a mapping can hit a hole on a full tmpfs (a fatal
 * SIGBUS): a full tmpfs is ENOSPC here instead. `allocate` is how many bytes
 * that may take; sizes the host cannot hold are refused first
 * ({@linkcode checkHostSize}), so this never wakes the OOM killer.
 */
export function fallocate(fd: number, size: number, name: string, allocate = size): void {
  checkHostSize({ size, allocate, fd, syscall: "posix_fallocate", object: name });
  try {
    sysReturn(() => libc().posix_fallocate(fd, 0n, BigInt(size)), "posix_fallocate", name);
  } catch (e) {
    if (e instanceof IpcError && e.code === "ENOSPC") {
      throw ipcError({
        errno: e.errno,
        syscall: "posix_fallocate",
        object: name,
        hint: "the tmpfs behind it (/dev/shm or memfd) is full",
      });
    }
    throw e;
  }
}

/**
 * Removes the POSIX shared-memory object `name`; processes that mapped it
 * keep the memory.
 *
 * @example
 * ```ts
 * import { createSharedMemory, removeSharedMemory } from "@ipckit/ipckit";
 * createSharedMemory("/ipckit-doc-rm-shm", { size: 1 }).close();
 * removeSharedMemory("/ipckit-doc-rm-shm");
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name; ENAMETOOLONG over `NAME_MAX`;
 * `NotFound` (ENOENT); `PermissionDenied` (EACCES).
 */
export function removeSharedMemory(name: string): void {
  checkPosixName(name, "shm_unlink");
  const c = cstr(name);
  sys(() => libc().shm_unlink(c), "shm_unlink", name, { kind: "shared memory object" });
}

/** What the factory functions hand to {@linkcode SharedMemory}. */
export interface RegionInit {
  /** The open descriptor; owned by the region once constructed. */
  fd: number;
  /** Name shown in errors. */
  name: string;
  /** Bytes to map (the object's size, checked with fstat by the caller). */
  size: number;
  /** `dev:ino` of the object. */
  identity: string;
  /** Map copy-on-write, refuse resize. */
  readOnly: boolean;
  /** Whether it has a POSIX name to remove. */
  posix: boolean;
}

/**
 * A mapped shared-memory region. `buffer`, `bytes` and `view` cover the whole
 * region; `typed()` makes other views. Close it with `close()` or `using`.
 * Made only by `createSharedMemory`, `openSharedMemory`,
 * `openSharedMemoryFd` and `createMemfd`.
 *
 * @example A counter several processes can add to
 * ```ts
 * import { createSharedMemory } from "@ipckit/ipckit";
 * using shm = createSharedMemory("/ipckit-doc-shared-memory", { size: 64 });
 * shm.remove();
 * const counter = shm.typed(Int32Array, 0, 1);
 * Atomics.add(counter, 0, 5);
 * console.log(shm.size, Atomics.load(counter, 0)); // 64 5
 * ```
 */
export class SharedMemory implements Disposable {
  readonly #handle: FdHandle;
  /** The object's name (`"/frames"`), `"memfd:<name>"` for a memfd, `"fd N"` for a received descriptor. */
  readonly name: string;
  /** Whether the mapping is read-only. */
  readonly readOnly: boolean;
  readonly #posix: boolean;
  readonly #identity: string;
  #size: number;
  #mapping: Mapping | null;
  #buffer: ArrayBuffer | null = null;
  #bytes!: Uint8Array<ArrayBuffer>;
  #view!: DataView<ArrayBuffer>;

  /** Internal: use the factory functions. */
  constructor(token: typeof INTERNAL, init: RegionInit) {
    if (token !== INTERNAL) {
      throw invalidArgument(
        "SharedMemory",
        undefined,
        "use createSharedMemory, openSharedMemory, openSharedMemoryFd or createMemfd",
      );
    }
    this.name = init.name;
    this.readOnly = init.readOnly;
    this.#posix = init.posix;
    this.#identity = init.identity;
    this.#size = init.size;
    this.#mapping = this.#map(init.fd, init.size);
    try {
      this.#handle = new FdHandle(init.fd, { name: init.name, nonBlocking: false });
    } catch (e) {
      this.#mapping?.unmap();
      throw e;
    }
  }

  #map(fd: number, size: number): Mapping | null {
    if (size === 0) return null;
    return Mapping.map({ kind: "fd", fd, object: this.name }, {
      size,
      readOnly: this.readOnly,
      name: this.name,
      identity: this.#identity,
    });
  }

  #live(op: string): void {
    if (this.#handle.closed) throw closedError(op, this.name);
  }

  /** The current buffer and its cached views, remade if the caller transferred it away. */
  #current(op: string): ArrayBuffer {
    this.#live(op);
    const buf = this.#mapping ? this.#mapping.buffer(op) : new ArrayBuffer(0);
    if (buf !== this.#buffer || buf.detached) {
      this.#buffer = buf;
      this.#bytes = new Uint8Array(buf);
      this.#view = new DataView(buf);
    }
    return buf;
  }

  /** Size of the mapping in bytes. */
  get size(): number {
    this.#live("size");
    return this.#size;
  }

  /** The whole region as one ArrayBuffer (detached after close or resize). */
  get buffer(): ArrayBuffer {
    return this.#current("buffer");
  }

  /** The whole region as bytes. */
  get bytes(): Uint8Array<ArrayBuffer> {
    this.#current("bytes");
    return this.#bytes;
  }

  /** The whole region as a DataView. */
  get view(): DataView<ArrayBuffer> {
    this.#current("view");
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
    const buf = this.#current("typed");
    if (
      (Ctor as unknown) !== DataView &&
      !(typeof Ctor === "function" && Ctor.prototype instanceof TypedArray)
    ) {
      throw invalidArgument("typed", this.name, "Ctor must be a typed-array class or DataView");
    }
    const bpe = (Ctor as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    const n = length !== undefined
      ? length
      : (typeof offset === "number" ? Math.floor((this.#size - offset) / bpe) : 0);
    if (
      typeof offset !== "number" || typeof n !== "number" || !Number.isInteger(offset) ||
      offset < 0 || offset % bpe !== 0 || !Number.isInteger(n) || n < 0 ||
      offset + n * bpe > this.#size
    ) {
      throw invalidArgument(
        "typed",
        this.name,
        `offset ${describe(offset)} and length ${describe(n)} do not fit a ${this.#size}-byte ` +
          `region in ${bpe}-byte elements`,
      );
    }
    return new Ctor(buf, offset, n);
  }

  /** The descriptor, e.g. to hand a memfd to a child with `withInheritedFds([shm.handle], ...)`. */
  get handle(): FdHandle {
    this.#live("handle");
    return this.#handle;
  }

  /** Flushes the mapping (`msync`, `MS_SYNC` unless `async`). Matters for file-backed maps; cheap on tmpfs. */
  sync(options: { async?: boolean } = {}): void {
    this.#live("msync");
    options = optionsObject(options, "msync", this.name);
    this.#mapping?.sync(checkFlag(options.async, "async", "msync", this.name));
  }

  /**
   * Changes the object's size (growing with `posix_fallocate`, shrinking with
   * `ftruncate`) and remaps it. The old buffer and its views are detached.
   * Other processes must remap too before touching bytes past a shrink.
   *
   * @throws {IpcError} EINVAL for a bad size or a read-only mapping; EBUSY for
   * a shrink below another live mapping of the object in this process or a
   * semaphore placed in it (that mapping would crash with SIGBUS); EPERM on a
   * size-sealed memfd; ENOSPC.
   */
  resize(size: number): void {
    this.#live("resize");
    checkInt(size, "size", "resize", this.name);
    if (this.readOnly) throw invalidArgument("resize", this.name, "the mapping is read-only");
    const fd = this.#handle.fd;
    if (size < this.#size) {
      const inUse = Math.max(
        Mapping.coverage(this.#identity, this.#mapping ?? undefined),
        pinnedEnd(this.#identity),
      );
      if (size < inUse) {
        throw ipcError({
          code: "EBUSY",
          syscall: "resize",
          object: this.name,
          detail: `cannot shrink to ${size} bytes: ${inUse} bytes are still mapped by another ` +
            "handle or used by a semaphore in this process (touching them would be SIGBUS)",
          hint: "close the other handles (and semaphores in the region) first",
        });
      }
      sys(() => libc().ftruncate(fd, BigInt(size)), "ftruncate", this.name);
    } else if (size > this.#size) {
      fallocate(fd, size, this.name, size - this.#size);
    }
    const next = this.#map(fd, size);
    this.#mapping?.unmap();
    this.#mapping = next;
    this.#size = size;
    this.#buffer = null;
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

  /** Removes the POSIX object's name (processes that mapped it keep the memory). */
  remove(): void {
    if (!this.#posix) {
      throw invalidArgument("shm_unlink", this.name, "a memfd has no name to remove");
    }
    removeSharedMemory(this.name);
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Detaches every view, unmaps (deferred while a semaphore in it is waited on) and closes. Idempotent. */
  close(): void {
    if (this.#handle.closed) return;
    this.#mapping?.unmap();
    this.#mapping = null;
    this.#buffer = null;
    this.#handle.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  static {
    pinImpl = (shm, offset, length, op) => {
      if (shm.closed) throw closedError(op, shm.name);
      if (
        !Number.isInteger(offset) || offset < 0 || offset % 8 !== 0 ||
        offset + length > shm.#size || shm.#mapping === null
      ) {
        throw invalidArgument(
          op,
          shm.name,
          `offset ${describe(offset)} must be a multiple of 8 with ${length} bytes inside the ` +
            `${shm.#size}-byte region`,
        );
      }
      if (shm.readOnly) throw invalidArgument(op, shm.name, "the mapping is read-only");
      const pin = shm.#mapping.pin(offset, length, op);
      const id = Symbol();
      const identity = shm.#identity;
      let live = pins.get(identity);
      if (!live) pins.set(identity, live = new Map());
      live.set(id, offset + length);
      return {
        ptr: pin.ptr,
        unpin: () => {
          const set = pins.get(identity);
          set?.delete(id);
          if (set?.size === 0) pins.delete(identity);
          pin.unpin();
        },
      };
    };
  }
}

/**
 * For a semaphore placed in a region: the address at `offset`, and a pin
 * that keeps the memory mapped (unmapping is deferred) and refuses shrinks
 * below it until released.
 */
export function pinRegion(
  shm: SharedMemory,
  offset: number,
  length: number,
  op: string,
): Pin {
  return pinImpl(shm, offset, length, op);
}
