/**
 * System V shared memory: a segment of bytes that outlives its creator,
 * attached into this process as an `ArrayBuffer`.
 *
 * A writable attachment exposes exactly one `ArrayBuffer` over the mapping;
 * `detach()` (or `using`, or closing the segment's handle) first detaches
 * that buffer, so every view on it reads length 0 and `undefined` instead of
 * touching unmapped memory. A read-only attachment (`SHM_RDONLY`) never hands
 * out the buffer, since a write through it would kill the process: it offers
 * copying reads only.
 *
 * @example Sharing bytes with a peer that knows the id
 * ```ts
 * import { createSysvSharedMemory } from "@ipckit/ipckit";
 * using shm = createSysvSharedMemory({ size: 4096, removeOnClose: true });
 * using mem = shm.attach();
 * new Uint32Array(mem.buffer)[0] = 42;
 * console.log(shm.id, new Uint32Array(mem.buffer)[0]); // <id> 42
 * ```
 *
 * @module
 */
import { E, ERRNO } from "../ffi/errno.ts";
import { libc } from "../ffi/libc.ts";
import { getField, off } from "../ffi/struct.ts";
import { sysv, sysvLayout } from "../ffi/sysv.ts";
import { closedError, invalidArgument, ipcError } from "./_errors.ts";
import {
  createWith,
  decodePerm,
  dsLayout,
  openFamily,
  type SysvCreateCommon,
  sysvLimits,
  SysvObject,
  type SysvOpenOptions,
  type SysvPerm,
  timeField,
} from "./_sysv.ts";

/** What `IPC_STAT` reports about a segment. */
export interface SysvShmStat {
  /** Owner, creator and permissions. */
  perm: SysvPerm;
  /** Size in bytes. */
  size: number;
  /** Last `shmat`, or `null`. */
  attachTime: Date | null;
  /** Last `shmdt`, or `null`. */
  detachTime: Date | null;
  /** Creation or last `IPC_SET`. */
  changeTime: Date | null;
  /** Pid of the creator. */
  creatorPid: number;
  /** Pid of the last `shmat`/`shmdt`. */
  lastPid: number;
  /** Current attachments (all processes). */
  attached: number;
  /** Marked for removal (`SHM_DEST`): destroyed at the last detach. */
  removed: boolean;
  /** Locked in memory (`SHM_LOCKED`). */
  locked: boolean;
}

/** Changes for {@linkcode SysvSharedMemory.set} (`IPC_SET`). */
export interface SysvShmSetOptions {
  /** New owner uid. */
  uid?: number;
  /** New owner gid. */
  gid?: number;
  /** New permission bits (0 to 0o777). */
  mode?: number;
}

/** Options for {@linkcode createSysvSharedMemory}. */
export interface CreateSysvSharedMemoryOptions extends SysvCreateCommon {
  /** Size in bytes (1 to `kernel.shmmax`). The kernel zero-fills it. */
  size: number;
}

/** Options for {@linkcode SysvSharedMemory.attach}. */
export interface SysvAttachOptions {
  /** Attach with `SHM_RDONLY`: only copying reads are offered. Default `false`. */
  readOnly?: boolean;
}

function checkRange(
  offset: unknown,
  length: unknown,
  size: number,
  syscall: string,
  object: string,
): [number, number] {
  if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0 || offset > size) {
    throw invalidArgument(syscall, object, `offset must be 0 to ${size}, got ${String(offset)}`);
  }
  if (
    typeof length !== "number" || !Number.isInteger(length) || length < 0 ||
    offset + length > size
  ) {
    throw invalidArgument(
      syscall,
      object,
      `length ${String(length)} at offset ${offset} passes the end of the ${size}-byte segment`,
    );
  }
  return [offset, length];
}

/**
 * One attachment (`shmat`) of a segment into this process.
 *
 * @example Read-only attachments copy
 * ```ts
 * import { createSysvSharedMemory } from "@ipckit/ipckit";
 * using shm = createSysvSharedMemory({ size: 16, removeOnClose: true });
 * shm.attach().write(new TextEncoder().encode("hi"));
 * using ro = shm.attach({ readOnly: true });
 * console.log(new TextDecoder().decode(ro.read(0, 2))); // hi
 * ```
 */
export class SysvShmAttachment implements Disposable {
  #ptr: Deno.PointerObject | null;
  #buffer: ArrayBuffer;
  readonly #name: string;
  readonly #onDetach: (a: SysvShmAttachment) => void;
  /** Attached with `SHM_RDONLY`. */
  readonly readOnly: boolean;
  /** Size of the segment in bytes. */
  readonly size: number;

  /** @internal Made by {@linkcode SysvSharedMemory.attach}. */
  constructor(
    ptr: Deno.PointerObject,
    size: number,
    readOnly: boolean,
    name: string,
    onDetach: (a: SysvShmAttachment) => void,
  ) {
    this.#ptr = ptr;
    this.size = size;
    this.readOnly = readOnly;
    this.#name = name;
    this.#onDetach = onDetach;
    this.#buffer = Deno.UnsafePointerView.getArrayBuffer(ptr, size);
  }

  /** Whether {@linkcode detach} has been called. */
  get detached(): boolean {
    return this.#ptr === null;
  }

  #live(syscall: string): ArrayBuffer {
    if (this.#ptr === null) throw closedError(syscall, this.#name);
    return this.#buffer;
  }

  /**
   * The one `ArrayBuffer` over the shared bytes (writable attachments only).
   * Build typed views on it; they go to length 0 when detached. Do not
   * `transfer()` it away.
   *
   * @throws {IpcError} `PermissionDenied` (EACCES) on a read-only attachment;
   * `BadResource` (EBADF) after `detach()`.
   */
  get buffer(): ArrayBuffer {
    const b = this.#live("shm buffer");
    if (this.readOnly) {
      throw ipcError({
        code: "EACCES",
        syscall: "shm buffer",
        object: this.#name,
        detail: "attached read-only: a write would crash the process, so only read() is offered",
      });
    }
    return b;
  }

  /** A `Uint8Array` over all of {@linkcode buffer} (writable attachments only). */
  get bytes(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.buffer);
  }

  /**
   * Copies `length` bytes (default: to the end) from `offset` (default 0).
   *
   * @throws {IpcError} EINVAL for a range outside the segment; `BadResource`
   * (EBADF) after `detach()`.
   */
  read(offset = 0, length: number = this.size - offset): Uint8Array<ArrayBuffer> {
    const b = this.#live("shm read");
    const [o, n] = checkRange(offset, length, this.size, "shm read", this.#name);
    return new Uint8Array(b, o, n).slice();
  }

  /**
   * Copies `data` into the segment at `offset` (default 0).
   *
   * @throws {IpcError} EINVAL if it does not fit; EACCES on a read-only
   * attachment; `BadResource` (EBADF) after `detach()`.
   */
  write(data: Uint8Array, offset = 0): void {
    const b = this.buffer;
    if (!(data instanceof Uint8Array)) {
      throw invalidArgument("shm write", this.#name, "data must be a Uint8Array");
    }
    const [o] = checkRange(offset, data.byteLength, this.size, "shm write", this.#name);
    new Uint8Array(b).set(data, o);
  }

  /**
   * Detaches (`shmdt`): the buffer and every view on it become empty
   * first, so stale views read `undefined` instead of crashing. Idempotent.
   */
  detach(): void {
    const ptr = this.#ptr;
    if (ptr === null) return;
    this.#ptr = null;
    this.#buffer.transfer(0); // detach every view before unmapping
    this.#onDetach(this);
    while (libc().shmdt(ptr) === -1 && ERRNO[0] === E().EINTR) { /* retry */ }
  }

  /** Same as {@linkcode detach}. */
  [Symbol.dispose](): void {
    this.detach();
  }
}

/**
 * A System V shared memory segment. Made by {@linkcode createSysvSharedMemory}
 * or {@linkcode openSysvSharedMemory}. `close()` (or `using`) detaches every
 * attachment made through this handle; `remove()` marks the segment for
 * destruction once every process has detached.
 *
 * @example
 * ```ts
 * import { createSysvSharedMemory } from "@ipckit/ipckit";
 * using shm = createSysvSharedMemory({ size: 100, removeOnClose: true });
 * console.log(shm.size, shm.stat().attached); // 100 0
 * ```
 */
export class SysvSharedMemory extends SysvObject {
  /** Size in bytes. */
  readonly size: number;
  readonly #attachments = new Set<SysvShmAttachment>();

  /** Wraps an id; use {@linkcode createSysvSharedMemory} or {@linkcode openSysvSharedMemory}. */
  constructor(id: number, key: number, size: number, removeOnClose = false) {
    super("shm", id, key, removeOnClose);
    this.size = size;
  }

  /** @internal */
  protected rawStat(buf: Uint8Array<ArrayBuffer>): number {
    return libc().shmctl(this.id, sysv().IPC_STAT, buf);
  }

  /** @internal */
  protected rawSet(buf: Uint8Array<ArrayBuffer>): number {
    return libc().shmctl(this.id, sysv().IPC_SET, buf);
  }

  /** @internal */
  protected rawRemove(): number {
    return libc().shmctl(this.id, sysv().IPC_RMID, null);
  }

  /** @internal */
  protected override onClose(): void {
    for (const a of [...this.#attachments]) a.detach();
  }

  /**
   * Attaches the segment (`shmat`). Detach with `detach()` or `using`;
   * closing this handle detaches it too.
   *
   * @example
   * ```ts
   * import { createSysvSharedMemory } from "@ipckit/ipckit";
   * using shm = createSysvSharedMemory({ size: 8, removeOnClose: true });
   * using mem = shm.attach();
   * new Float64Array(mem.buffer)[0] = Math.PI;
   * ```
   *
   * @throws {IpcError} `PermissionDenied` (EACCES) without read (or, for a
   * writable attachment, write) permission; EIDRM if removed.
   */
  attach(options: SysvAttachOptions = {}): SysvShmAttachment {
    const id = this.live("shmat");
    const readOnly = options.readOnly ?? false;
    const ptr = libc().shmat(id, null, readOnly ? sysv().SHM_RDONLY : 0);
    const n = ERRNO[0]; // read before anything can allocate; meaningful only on failure
    if (ptr === null || Deno.UnsafePointer.value(ptr) === 0xffffffffffffffffn) {
      throw this.failure(n, "shmat");
    }
    const a = new SysvShmAttachment(
      ptr,
      this.size,
      readOnly,
      this.name,
      (x) => this.#attachments.delete(x),
    );
    this.#attachments.add(a);
    return a;
  }

  /**
   * `IPC_STAT`: owner, permissions, size, times, pids and attachments.
   *
   * @throws {IpcError} EIDRM if removed; `PermissionDenied` (EACCES) without
   * read permission.
   */
  stat(): SysvShmStat {
    return decodeShmid(this.statView("shmctl(IPC_STAT)"));
  }

  /**
   * `IPC_SET`: changes owner or mode.
   *
   * @throws {IpcError} `PermissionDenied` (EPERM) unless owner or creator.
   */
  set(changes: SysvShmSetOptions): void {
    this.applySet("shmctl(IPC_SET)", changes);
  }
}

function decodeShmid(v: DataView): SysvShmStat {
  const L = dsLayout("shm");
  const C = sysv();
  const raw = getField(v, sysvLayout().ipc_perm, "mode", false, off(L, "shm_perm"));
  return {
    perm: decodePerm(v, off(L, "shm_perm")),
    size: getField(v, L, "shm_segsz"),
    attachTime: timeField(v, L, "shm_atime"),
    detachTime: timeField(v, L, "shm_dtime"),
    changeTime: timeField(v, L, "shm_ctime"),
    creatorPid: getField(v, L, "shm_cpid", true),
    lastPid: getField(v, L, "shm_lpid", true),
    attached: getField(v, L, "shm_nattch"),
    removed: (raw & C.SHM_DEST) !== 0,
    locked: (raw & C.SHM_LOCKED) !== 0,
  };
}

/**
 * Creates a new segment of `size` bytes with `IPC_CREAT|IPC_EXCL` (mode
 * `0o600`, key `IPC_PRIVATE` unless asked). The kernel zero-fills it.
 *
 * @example
 * ```ts
 * import { createSysvSharedMemory } from "@ipckit/ipckit";
 * using shm = createSysvSharedMemory({ size: 1 << 20, removeOnClose: true });
 * ```
 *
 * @throws {IpcError} EINVAL for a size outside 1..`kernel.shmmax`;
 * `AlreadyExists` (EEXIST) if the key is taken; ENOSPC/ENOMEM at the
 * system's limits.
 */
export function createSysvSharedMemory(options: CreateSysvSharedMemoryOptions): SysvSharedMemory {
  const size = options?.size;
  const { shmmax } = sysvLimits();
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1 || size > shmmax) {
    throw invalidArgument(
      "shmget",
      undefined,
      `size must be an integer from 1 to ${shmmax} (kernel.shmmax), got ${String(size)}`,
      { limit: "kernel.shmmax" },
    );
  }
  const [id, key] = createWith(
    "shm",
    "shmget",
    options,
    (k, flags) => libc().shmget(k, BigInt(size), flags),
    { limit: "kernel.shmall" },
  );
  return new SysvSharedMemory(id, key, size, options.removeOnClose ?? false);
}

/**
 * Opens an existing segment by `key` or by `id`, after the owner and mode
 * check (see `SysvOpenCommon.trust`). The size is read from the segment.
 *
 * @example
 * ```ts
 * import { createSysvSharedMemory, openSysvSharedMemory } from "@ipckit/ipckit";
 * using mine = createSysvSharedMemory({ size: 64, removeOnClose: true });
 * using same = openSysvSharedMemory({ id: mine.id });
 * console.log(same.size); // 64
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT) for an unknown key or
 * id; `PermissionDenied` (EACCES) without read permission, (EPERM)
 * for an untrusted segment.
 */
export function openSysvSharedMemory(options: SysvOpenOptions): SysvSharedMemory {
  return openFamily(
    "shm",
    options,
    (k, flags) => libc().shmget(k, 0n, flags),
    (id, buf) => libc().shmctl(id, sysv().IPC_STAT, buf),
    (id, key, v) =>
      new SysvSharedMemory(
        id,
        key,
        getField(v, dsLayout("shm"), "shm_segsz"),
        options.removeOnClose ?? false,
      ),
  );
}
