/**
 * Making and opening the memory behind a channel: a POSIX shared-memory
 * object (by name) or a memfd (passed as a descriptor), created exclusively
 * with an exact mode and reserved space, or opened after the trust rule and
 * a size check against `fstat`, then mapped through {@linkcode Mapping} and
 * its header written or validated.
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { mman } from "../ffi/mman.ts";
import { unistd } from "../ffi/unistd.ts";
import { invalidArgument, ipcError, sys } from "./_errors.ts";
import { Descriptor } from "./fd.ts";
import { Mapping } from "./_mapping.ts";
// One allocation rule for every shared-memory object: host limits first, then posix_fallocate.
import { fallocate } from "./_shm_region.ts";
import { statFd } from "./_stat.ts";
import { checkOwner, type TrustOptions } from "./_trust.ts";
import { checkMode, describe, objectOf } from "./_validate.ts";
import { checkPosixName, orDefault } from "./_posix.ts";
import {
  channelBytes,
  HEADER_SIZE,
  IDX,
  MAGIC,
  MAX_CAPACITY,
  SLOT_HEADER,
  slotSizeFor,
  VERSION,
} from "./_channel_layout.ts";
import type { Geometry } from "./_channel_ring.ts";

export type { Geometry };

/** Sizes of a new channel. */
export interface ChannelSizeOptions {
  /** Slots in the ring, a power of two from 2 to 2^24. Default 1024. */
  capacity?: number;
  /** Largest message in bytes (1 to 2^30). Default 1024. */
  messageSize?: number;
}

/** The memory of an open channel, before an end is attached. */
export interface ChannelMemory {
  descriptor: Descriptor;
  mapping: Mapping;
  geometry: Geometry;
  name: string;
}

/** Validates sizes before any syscall. */
export function geometryFor(
  options: ChannelSizeOptions | undefined,
  syscall: string,
  name: string,
): Geometry {
  const capacity = orDefault(options?.capacity, 1024);
  const messageSize = orDefault(options?.messageSize, 1024);
  if (
    typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 2 ||
    capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0
  ) {
    throw invalidArgument(
      syscall,
      name,
      `capacity must be a power of two from 2 to ${MAX_CAPACITY}, got ${describe(capacity)}`,
    );
  }
  if (
    typeof messageSize !== "number" || !Number.isInteger(messageSize) || messageSize < 1 ||
    messageSize > 2 ** 30
  ) {
    throw invalidArgument(
      syscall,
      name,
      `messageSize must be an integer from 1 to 2^30, got ${describe(messageSize)}`,
    );
  }
  const slotSize = slotSizeFor(messageSize);
  if (
    !Number.isSafeInteger(channelBytes(capacity, slotSize)) ||
    channelBytes(capacity, slotSize) > 2 ** 40
  ) {
    throw invalidArgument(syscall, name, "capacity × messageSize is too large");
  }
  return { capacity, slotSize, messageSize };
}

function mapAll(fd: number, name: string, size: number): Mapping {
  const st = statFd(fd, name);
  if (st.size < size) {
    throw ipcError({
      code: "EPROTO",
      syscall: "mmap",
      object: name,
      detail: `object is ${st.size} bytes, the channel needs ${size}`,
    });
  }
  return Mapping.map({ kind: "fd", fd, object: name }, {
    size,
    name,
    identity: `${st.dev}:${st.ino}`,
  });
}

function writeHeader(mapping: Mapping, g: Geometry): void {
  const i32 = new Int32Array(mapping.buffer("channel"), 0, HEADER_SIZE / 4);
  i32[IDX.version] = VERSION;
  i32[IDX.headerSize] = HEADER_SIZE;
  i32[IDX.capacity] = g.capacity;
  i32[IDX.slotSize] = g.slotSize;
  i32[IDX.messageSize] = g.messageSize;
  // Last, so an opener never sees a half-written header.
  Atomics.store(i32, IDX.magic, MAGIC);
}

/** Reads and checks the header of an existing channel of `size` bytes. */
export function readHeader(fd: number, name: string): { size: number; geometry: Geometry } {
  const st = statFd(fd, name);
  const bad = (detail: string) =>
    ipcError({ code: "EPROTO", syscall: "open", object: name, detail });
  if (st.size < HEADER_SIZE) throw bad(`object is ${st.size} bytes: not a channel`);
  const head = Mapping.map({ kind: "fd", fd, object: name }, {
    size: HEADER_SIZE,
    name,
    identity: `${st.dev}:${st.ino}`,
  });
  try {
    const i32 = new Int32Array(head.buffer("channel"));
    // The creator stores the magic last: give it a moment if it is mid-way.
    const until = performance.now() + 10;
    while (Atomics.load(i32, IDX.magic) === 0 && performance.now() < until) { /* spin */ }
    const magic = Atomics.load(i32, IDX.magic);
    if (magic === 0) {
      throw ipcError({
        code: "EAGAIN",
        syscall: "open",
        object: name,
        detail: "the channel is still being created",
      });
    }
    if (magic !== MAGIC) {
      throw bad(`bad magic 0x${(magic >>> 0).toString(16)}: not an ipckit channel`);
    }
    if (i32[IDX.version] !== VERSION) {
      throw bad(`layout version ${i32[IDX.version]}, this ipckit reads ${VERSION}`);
    }
    if (i32[IDX.headerSize] !== HEADER_SIZE) throw bad(`header size ${i32[IDX.headerSize]}`);
    const capacity = i32[IDX.capacity];
    const slotSize = i32[IDX.slotSize];
    const messageSize = i32[IDX.messageSize];
    if (capacity < 2 || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
      throw bad(`capacity ${capacity}`);
    }
    if (
      slotSize < 16 || slotSize % 8 !== 0 || messageSize < 1 || messageSize > slotSize - SLOT_HEADER
    ) {
      throw bad(`slot size ${slotSize}, message size ${messageSize}`);
    }
    const size = channelBytes(capacity, slotSize);
    if (size > st.size) throw bad(`header says ${size} bytes, the object has ${st.size}`);
    return { size, geometry: { capacity, slotSize, messageSize } };
  } finally {
    head.unmap();
  }
}

function adopt(fd: number, f: () => ChannelMemory): ChannelMemory {
  try {
    return f();
  } catch (e) {
    libc().close(fd);
    throw e;
  }
}

/** Creates the shared-memory object `name` (O_EXCL, exact mode) and writes the header. */
export function createShmChannel(
  name: string,
  sizes: ChannelSizeOptions | undefined,
  mode: number | undefined,
): ChannelMemory {
  checkPosixName(name, "shm_open");
  const geometry = geometryFor(sizes, "shm_open", name);
  const m = checkMode(orDefault(mode, 0o600), "shm_open", name);
  const C = unistd();
  const c = cstr(name);
  const fd = sys(
    () => libc().shm_open(c, C.O_RDWR | C.O_CREAT | C.O_EXCL | C.O_CLOEXEC, m),
    "shm_open",
    name,
    {
      kind: "channel",
    },
  );
  try {
    return adopt(fd, () => {
      sys(() => libc().fchmod(fd, m), "fchmod", name);
      return initRing(fd, name, geometry, false);
    });
  } catch (e) {
    libc().shm_unlink(c);
    throw e;
  }
}

/** Opens the existing channel `name` after the trust rule and header checks. */
export function openShmChannel(name: string, trust: TrustOptions | undefined): ChannelMemory {
  checkPosixName(name, "shm_open");
  const C = unistd();
  const c = cstr(name);
  const fd = sys(() => libc().shm_open(c, C.O_RDWR | C.O_CLOEXEC, 0), "shm_open", name, {
    kind: "channel",
  });
  return adopt(fd, () => fromFd(fd, name, trust, true));
}

function fromFd(
  fd: number,
  name: string,
  trust: TrustOptions | undefined,
  byName: boolean,
): ChannelMemory {
  const st = statFd(fd, name);
  // A name can be opened by anyone its mode lets in; a descriptor only by who
  // holds it (memfds are mode 0777): there only the owner matters.
  checkOwner(byName ? st : { ...st, mode: st.mode & ~0o022 }, trust, "open", name, "channel");
  const { size, geometry } = readHeader(fd, name);
  const mapping = mapAll(fd, name, size);
  return { descriptor: new Descriptor(fd, { name, nonBlocking: false }), mapping, geometry, name };
}

/** Maps the channel behind an inherited or received descriptor (taking it over). */
export function openFdChannel(fd: number, trust: TrustOptions | undefined): ChannelMemory {
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
    throw invalidArgument("open", objectOf(fd), `not a descriptor number: ${describe(fd)}`);
  }
  return adopt(fd, () => fromFd(fd, `fd ${fd}`, trust, false));
}

/** Creates an anonymous channel in a memfd whose size is sealed. */
export function createMemfdChannel(sizes: ChannelSizeOptions | undefined): ChannelMemory {
  const name = "memfd:ipckit-channel";
  const geometry = geometryFor(sizes, "memfd_create", name);
  const M = mman();
  const c = cstr("ipckit-channel");
  const fd = sys(
    () => libc().memfd_create(c, M.MFD_CLOEXEC | M.MFD_ALLOW_SEALING),
    "memfd_create",
    name,
  );
  return adopt(fd, () => initRing(fd, name, geometry, true));
}

/**
 * Sizes a new channel's object (allocated up front: no hole to SIGBUS on),
 * optionally seals it (no holder of the descriptor may then shrink it under
 * another's mapping), maps it and writes the header.
 */
function initRing(fd: number, name: string, geometry: Geometry, seal: boolean): ChannelMemory {
  const size = channelBytes(geometry.capacity, geometry.slotSize);
  fallocate(fd, size, name);
  if (seal) {
    const M = mman();
    sys(
      () => libc().fcntl(fd, M.F_ADD_SEALS, M.F_SEAL_SHRINK | M.F_SEAL_GROW | M.F_SEAL_SEAL),
      "fcntl(F_ADD_SEALS)",
      name,
    );
  }
  const mapping = mapAll(fd, name, size);
  writeHeader(mapping, geometry);
  return { descriptor: new Descriptor(fd, { name, nonBlocking: false }), mapping, geometry, name };
}

/** `shm_unlink(name)`. */
export function unlinkChannel(name: string): void {
  checkPosixName(name, "shm_unlink");
  const c = cstr(name);
  sys(() => libc().shm_unlink(c), "shm_unlink", name, { kind: "channel" });
}
