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
import { checkBytes, optionsObject } from "./_validate.ts";
import { getField, off } from "../ffi/struct.ts";
import { sysv, sysvLayout } from "../ffi/sysv.ts";
import { libc } from "../ffi/libc.ts";
import { invalidArgument, type IpcError } from "./_errors.ts";
import { creationObject, shown } from "./_sysv_key.ts";
import { checkRange, Mapping } from "./_mapping.ts";
import { sysvLimits } from "./_sysv_limits.ts";
import {
  sysvApplySet,
  sysvFailure,
  type SysvHandleOptions,
  sysvLive,
  SysvObject,
  sysvOnClose,
  sysvStatView,
} from "./_sysv_object.ts";
import {
  createOptions,
  createWith,
  openFamily,
  type SysvCreateCommon,
  type SysvOpenOptions,
} from "./_sysv_open.ts";
import { decodePerm, dsLayout, type SysvPerm, timeField } from "./_sysv_perm.ts";

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

let attachment: (
  mapping: Mapping,
  readOnly: boolean,
  onDetach: (a: SysvShmAttachment) => void,
) => SysvShmAttachment;

/**
 * One attachment (`shmat`) of a segment into this process, held by the
 * shared {@linkcode Mapping} owner: its size is the segment's size as
 * `IPC_STAT` reports it when attaching, and detaching works (and releases
 * the segment) even after the caller transferred the buffer away.
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
  readonly #mapping: Mapping;
  readonly #onDetach: (a: SysvShmAttachment) => void;
  /** Attached with `SHM_RDONLY`. */
  readonly readOnly: boolean;

  static {
    attachment = (m, r, d) => new SysvShmAttachment(m, r, d);
  }

  /** Made by {@linkcode SysvSharedMemory.attach}. */
  private constructor(
    mapping: Mapping,
    readOnly: boolean,
    onDetach: (a: SysvShmAttachment) => void,
  ) {
    this.#mapping = mapping;
    this.readOnly = readOnly;
    this.#onDetach = onDetach;
  }

  /** Size of the attached segment in bytes (as `IPC_STAT` reported it). */
  get size(): number {
    return this.#mapping.size;
  }

  /** Whether {@linkcode detach} has been called. */
  get detached(): boolean {
    return !this.#mapping.mapped;
  }

  /**
   * The `ArrayBuffer` over the shared bytes (writable attachments only).
   * Build typed views on it; they go to length 0 when detached. If you
   * transfer it away, the next read of this property gives a new one, and
   * `detach()` still releases the segment.
   *
   * @throws {IpcError} `PermissionDenied` (EACCES) on a read-only attachment;
   * `BadResource` (EBADF) after `detach()`.
   */
  get buffer(): ArrayBuffer {
    return this.#mapping.buffer("shm buffer");
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
  read(offset = 0, length?: number): Uint8Array<ArrayBuffer> {
    if (this.detached) return this.#mapping.copy(0, 0); // throws EBADF
    if (length === undefined) length = typeof offset === "number" ? this.size - offset : 0;
    checkRange(offset, length, this.size, "shm read", this.#mapping.name);
    return this.#mapping.copy(offset, length);
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
      throw invalidArgument("shm write", this.#mapping.name, "data must be a Uint8Array");
    }
    // Detached or out of bounds: EINVAL, not a TypeError.
    const n = checkBytes(data, "shm write", this.#mapping.name);
    checkRange(offset, n, this.size, "shm write", this.#mapping.name);
    new Uint8Array(b).set(data, offset);
  }

  /**
   * Detaches (`shmdt`): the buffer and every view on it become empty
   * first, so stale views read `undefined` instead of crashing. Idempotent.
   */
  detach(): void {
    if (this.detached) return;
    this.#onDetach(this);
    this.#mapping.unmap();
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
  /** Size in bytes, as `IPC_STAT` reported it when opened. */
  readonly size: number;
  readonly #attachments = new Set<SysvShmAttachment>();

  /**
   * Opens the segment with `id` after checking with `IPC_STAT` that it
   * exists and passes the trust rule (its size comes from the kernel);
   * {@linkcode openSysvSharedMemory} also takes a key.
   */
  constructor(id: number, options: SysvHandleOptions = {}) {
    super("shm", id, options);
    sysvOnClose(this, () => {
      for (const a of [...this.#attachments]) a.detach();
    });
    this.size = getField(sysvStatView(this, "shmctl(IPC_STAT)"), dsLayout("shm"), "shm_segsz");
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
    const id = sysvLive(this, "shmat");
    optionsObject(options, "shmat", this.name);
    const readOnly = options.readOnly === undefined ? false : options.readOnly;
    if (typeof readOnly !== "boolean") {
      throw invalidArgument(
        "shmat",
        this.name,
        `readOnly must be true or false, got ${shown(readOnly)}`,
      );
    }
    // The size is the kernel's, read now: never more than the segment holds.
    const size = this.stat().size;
    let mapping: Mapping;
    try {
      mapping = Mapping.map(
        { kind: "sysv", id, object: this.name },
        { size, readOnly, name: this.name, identity: `sysv:${id}` },
      );
    } catch (e) {
      throw sysvFailure(this, e as IpcError, "shmat");
    }
    const a = attachment(
      mapping,
      readOnly,
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
    return decodeShmid(sysvStatView(this, "shmctl(IPC_STAT)"));
  }

  /**
   * `IPC_SET`: changes owner or mode.
   *
   * @throws {IpcError} `PermissionDenied` (EPERM) unless owner or creator.
   */
  set(changes: SysvShmSetOptions): void {
    sysvApplySet(this, "shmctl(IPC_SET)", changes);
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
  if (options === undefined) {
    throw invalidArgument("shmget", "IPC_PRIVATE", "options must be an object with a size");
  }
  options = createOptions(options, "shmget");
  const size = options.size;
  const { shmmax } = sysvLimits();
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1 || size > shmmax) {
    throw invalidArgument(
      "shmget",
      creationObject(options.key),
      `size must be an integer from 1 to ${shmmax} (kernel.shmmax), got ${shown(size)}`,
      { limit: "kernel.shmmax" },
    );
  }
  const [id] = createWith(
    "shm",
    "shmget",
    options,
    (k, flags) => libc().shmget(k, BigInt(size), flags),
    { limit: "kernel.shmall" },
  );
  return new SysvSharedMemory(id, { trust: "any", removeOnClose: options.removeOnClose });
}

/**
 * Opens an existing segment by `key` or by `id`, after the owner and mode
 * check (`trust`, `trustedUids`). The size is read from the segment. With
 * `create` and a key, creates the segment if no segment has that key.
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
export function openSysvSharedMemory(
  options: SysvOpenOptions<Omit<CreateSysvSharedMemoryOptions, "key" | "removeOnClose">>,
): SysvSharedMemory {
  return openFamily(
    "shm",
    options,
    (k, flags) => libc().shmget(k, 0n, flags),
    (id, trust) => new SysvSharedMemory(id, { ...trust, removeOnClose: options.removeOnClose }),
    (key, create) =>
      createSysvSharedMemory({ ...create, key, removeOnClose: options.removeOnClose }),
  );
}
