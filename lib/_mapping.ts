/**
 * The one owner of mapped memory. Every `mmap` and `shmat` in ipckit goes
 * through {@linkcode Mapping}, so the rules that keep a script from touching
 * memory that is not its object's live here and nowhere else:
 *
 * - A mapping never covers more than the object holds: the size is checked
 *   against the kernel (`fstat`, `IPC_STAT`) before mapping, so no view can
 *   reach past the end (reads of other memory, SIGSEGV, SIGBUS).
 * - Every buffer handed out is made here. Unmapping first detaches each of
 *   them (views read length 0). A buffer the caller transferred away
 *   (`transfer()`, `postMessage`) cannot be detached by us: its pages are then
 *   replaced by anonymous zero pages (`MAP_FIXED`) instead of unmapped, so the
 *   object is still released and the stray buffer stays harmless.
 * - Unmapping waits while something in the region is pinned (a semaphore
 *   being waited on from the pool).
 * - All live mappings of one object in this process are known
 *   ({@linkcode Mapping.coverage}), so a shrink that would cut under another
 *   handle's mapping is refused instead of ending in SIGBUS.
 *
 * @module
 */
import { describe } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { mman } from "../ffi/mman.ts";
import { sysv } from "../ffi/sysv.ts";
import { closedError, invalidArgument, ipcError, sys, sysOnce, sysPointer } from "./_errors.ts";

/** What a region is backed by: an open descriptor, or a System V segment id. */
export type MappingSource =
  | { kind: "fd"; fd: number; object: string }
  | { kind: "sysv"; id: number; object: string };

/** How to map. */
export interface MapRequest {
  /** Bytes to map (> 0), already checked against the object's size. */
  size: number;
  /**
   * Read-only. For descriptors the pages are mapped private copy-on-write, so
   * a stray write changes only this process's copy and cannot SIGSEGV; for
   * System V they are `SHM_RDONLY` and no buffer is handed out (only copies).
   */
  readOnly?: boolean;
  /** Name shown in errors. */
  name: string;
  /** Identity of the object (`dev:ino`, `sysv:<id>`) shared by all its mappings here. */
  identity: string;
}

const registry = new Map<string, Set<Mapping>>();

function allOnes(p: Deno.PointerValue): boolean {
  return p === null || Deno.UnsafePointer.value(p) === 0xffffffffffffffffn;
}

/** One mapped region of one object; made only by {@linkcode Mapping.map}. */
export class Mapping {
  #ptr: Deno.PointerObject | null;
  readonly #size: number;
  readonly #sysv: boolean;
  /** Whether the pages are writable through JS without a fault. */
  readonly writable: boolean;
  /** Name shown in errors. */
  readonly name: string;
  /** Identity of the mapped object. */
  readonly identity: string;
  #buffers: ArrayBuffer[] = [];
  #current: ArrayBuffer | null = null;
  #pins = 0;
  #unmapPending = false;
  #escaped = false;

  private constructor(ptr: Deno.PointerObject, req: MapRequest, sysvSeg: boolean) {
    this.#ptr = ptr;
    this.#size = req.size;
    this.#sysv = sysvSeg;
    this.writable = !(sysvSeg && req.readOnly);
    this.name = req.name;
    this.identity = req.identity;
    let set = registry.get(req.identity);
    if (!set) registry.set(req.identity, set = new Set());
    set.add(this);
  }

  /**
   * Maps `req.size` bytes of `source`. The caller has checked the size
   * against the object (see {@linkcode checkMapSize}).
   */
  static map(source: MappingSource, req: MapRequest): Mapping {
    if (!Number.isSafeInteger(req.size) || req.size <= 0) {
      throw invalidArgument("mmap", req.name, `size must be a positive integer, got ${req.size}`);
    }
    if (source.kind === "fd") {
      const M = mman();
      const flags = req.readOnly ? M.MAP_PRIVATE : M.MAP_SHARED;
      const ptr = sysPointer(
        () => libc().mmap(null, BigInt(req.size), M.PROT_READ | M.PROT_WRITE, flags, source.fd, 0n),
        allOnes,
        "mmap",
        req.name,
      );
      return new Mapping(ptr, req, false);
    }
    const ptr = sysPointer(
      () => libc().shmat(source.id, null, req.readOnly ? sysv().SHM_RDONLY : 0),
      allOnes,
      "shmat",
      req.name,
      { kind: "shared memory segment" },
    );
    return new Mapping(ptr, req, true);
  }

  /**
   * The largest size any live mapping of `identity` in this process covers,
   * other than `except`. A shrink below it would SIGBUS that mapping.
   */
  static coverage(identity: string, except?: Mapping): number {
    let most = 0;
    for (const m of registry.get(identity) ?? []) {
      if (m !== except && m.#ptr !== null) most = Math.max(most, m.#size);
    }
    return most;
  }

  /** Bytes mapped. */
  get size(): number {
    return this.#size;
  }

  /** Whether the region is still mapped. */
  get mapped(): boolean {
    return this.#ptr !== null && !this.#unmapPending;
  }

  #live(op: string): Deno.PointerObject {
    if (this.#ptr === null || this.#unmapPending) throw closedError(op, this.name);
    return this.#ptr;
  }

  /**
   * The buffer over the whole region. If the caller transferred the previous
   * one away, a new one is made (the old one keeps pointing here, which is
   * why unmapping then replaces the pages instead).
   *
   * @throws {IpcError} EACCES for a read-only System V attachment (a JS write
   * to it would be a fatal SIGSEGV; use {@linkcode Mapping.copy}).
   */
  buffer(op = "buffer"): ArrayBuffer {
    const ptr = this.#live(op);
    if (!this.writable) {
      throw ipcError({
        code: "EACCES",
        syscall: op,
        object: this.name,
        detail: "attached read-only: a write would crash the process, so only copies are offered",
      });
    }
    if (this.#current === null || this.#current.detached) {
      if (this.#current !== null) this.#escaped = true;
      this.#current = Deno.UnsafePointerView.getArrayBuffer(ptr, this.#size);
      this.#buffers.push(this.#current);
    }
    return this.#current;
  }

  /** Copies `length` bytes from `offset` (range already checked by the caller). */
  copy(offset: number, length: number): Uint8Array<ArrayBuffer> {
    const ptr = this.#live("read");
    checkRange(offset, length, this.#size, "read", this.name);
    const out = new Uint8Array(length);
    if (length > 0) Deno.UnsafePointerView.copyInto(ptr, out, offset);
    return out;
  }

  /**
   * The address at `offset` for `length` bytes, for a C object placed in the
   * region (an unnamed semaphore). Unmapping is deferred until `unpin()`.
   */
  pin(offset: number, length: number, op: string): { ptr: Deno.PointerObject; unpin(): void } {
    const ptr = this.#live(op);
    checkRange(offset, length, this.#size, op, this.name);
    this.#pins++;
    let done = false;
    return {
      ptr: Deno.UnsafePointer.offset(ptr, offset)!,
      unpin: () => {
        if (done) return;
        done = true;
        this.#pins--;
        if (this.#unmapPending && this.#pins === 0) this.#release();
      },
    };
  }

  /** Flushes the region to its object (`msync`). */
  sync(async: boolean): void {
    const ptr = this.#live("msync");
    if (this.#sysv) return;
    const M = mman();
    sys(
      () => libc().msync(ptr, BigInt(this.#size), async ? M.MS_ASYNC : M.MS_SYNC),
      "msync",
      this.name,
    );
  }

  /**
   * Detaches every buffer handed out (views read length 0), then unmaps,
   * or defers the unmap while the region is pinned. Idempotent.
   */
  unmap(): void {
    if (this.#ptr === null || this.#unmapPending) return;
    for (const b of this.#buffers) {
      // Only this method detaches our buffers: one already detached was
      // transferred away by the caller and may still be in use.
      if (b.detached) this.#escaped = true;
      else b.transfer(0);
    }
    this.#buffers = [];
    this.#current = null;
    registry.get(this.identity)?.delete(this);
    if (registry.get(this.identity)?.size === 0) registry.delete(this.identity);
    this.#unmapPending = true;
    if (this.#pins === 0) this.#release();
  }

  #release(): void {
    const ptr = this.#ptr!;
    this.#ptr = null;
    const M = mman();
    if (this.#escaped) {
      // A buffer we cannot detach still points here: swap the object's pages
      // for private zero pages (this drops the mapping of the object, a
      // System V detach included) instead of leaving an unmapped hole.
      sysPointer(
        () =>
          libc().mmap(
            ptr,
            BigInt(this.#size),
            M.PROT_READ | M.PROT_WRITE,
            M.MAP_PRIVATE | M.MAP_ANONYMOUS | M.MAP_FIXED,
            -1,
            0n,
          ),
        allOnes,
        "mmap(MAP_FIXED)",
        this.name,
      );
      return;
    }
    if (this.#sysv) sysOnce(() => libc().shmdt(ptr), "shmdt", this.name);
    else sysOnce(() => libc().munmap(ptr, BigInt(this.#size)), "munmap", this.name);
  }
}

/** Throws EINVAL unless `[offset, offset + length)` lies inside `size` bytes. */
export function checkRange(
  offset: unknown,
  length: unknown,
  size: number,
  syscall: string,
  object: string,
): void {
  if (
    typeof offset !== "number" || typeof length !== "number" || !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size
  ) {
    throw invalidArgument(
      syscall,
      object,
      `${describe(length)} bytes at offset ${describe(offset)} do not fit the ${size}-byte region`,
    );
  }
}
