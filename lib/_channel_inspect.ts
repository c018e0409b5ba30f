/**
 * Finding channels on the host: every object in `/dev/shm` whose first
 * bytes are a channel header. A provider for `ipckit ls` (the lister in
 * `lib/posix_inspect.ts` can call {@linkcode listChannels}) and the data of
 * `ipckit channel ls`. Objects are opened read-only and their header read
 * with `read()`, never mapped, so another user's object is only looked at.
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { trySys } from "./_errors.ts";
import { listDir, userName } from "./_host.ts";
import { statFd } from "./_stat.ts";
import { openShmChannel, unlinkChannel } from "./_channel_open.ts";
import { type ChannelStatus, readStatus } from "./_channel_base.ts";
import type { TrustOptions } from "./_trust.ts";
import { trustLevel } from "./_trust.ts";
import { HEADER_SIZE, IDX, MAGIC, VERSION } from "./_channel_layout.ts";
import { pidAlive } from "./_channel_ring.ts";

/** One channel found in `/dev/shm`. */
export interface ChannelListing {
  /** Always `"channel"`. */
  kind: "channel";
  /** The channel's name (`"/jobs"`). */
  name: string;
  /** Owner uid. */
  uid: number;
  /** Owner user name. */
  owner: string;
  /** Permission bits. */
  mode: number;
  /** Bytes of the object. */
  size: number;
  /** Slots. */
  capacity: number;
  /** Largest message. */
  messageSize: number;
  /** Messages waiting. */
  messages: number;
  /** Sender pid (0: none). */
  senderPid: number;
  /** Receiver pid (0: none). */
  receiverPid: number;
  /** Whether the attached sender's process runs. */
  senderAlive: boolean;
  /** Whether the attached receiver's process runs. */
  receiverAlive: boolean;
}

/** Reads the header of `/dev/shm/<file>`; `null` if it is not a readable channel. */
export function probeChannel(file: string): ChannelListing | null {
  const C = unistd();
  const path = cstr(`/dev/shm/${file}`);
  const fd = trySys(
    () => libc().open(path, C.O_RDONLY | C.O_CLOEXEC | C.O_NONBLOCK | C.O_NOFOLLOW, 0),
    "open",
    file,
    undefined,
    ["EACCES", "ENOENT", "EPERM", "ELOOP", "ENXIO", "EISDIR"],
  );
  if (fd === null) return null;
  try {
    const st = statFd(fd, file);
    if (st.type !== "file" || st.size < HEADER_SIZE) return null;
    const buf = new Int32Array(HEADER_SIZE / 4);
    const bytes = new Uint8Array(buf.buffer);
    if (libc().read(fd, bytes, BigInt(HEADER_SIZE)) !== HEADER_SIZE) return null;
    if (buf[IDX.magic] !== MAGIC || buf[IDX.version] !== VERSION) return null;
    const senderPid = buf[IDX.senderPid];
    const receiverPid = buf[IDX.receiverPid];
    return {
      kind: "channel",
      name: `/${file}`,
      uid: st.uid,
      owner: userName(st.uid),
      mode: st.mode,
      size: st.size,
      capacity: buf[IDX.capacity],
      messageSize: buf[IDX.messageSize],
      messages: (buf[IDX.tail] - buf[IDX.head]) | 0,
      senderPid,
      receiverPid,
      senderAlive: senderPid > 0 && pidAlive(senderPid),
      receiverAlive: receiverPid > 0 && pidAlive(receiverPid),
    };
  } finally {
    libc().close(fd);
  }
}

/** Every channel in `/dev/shm` this process can read, by name. */
export function listChannels(): ChannelListing[] {
  const out: ChannelListing[] = [];
  for (const file of (listDir("/dev/shm") ?? []).sort()) {
    if (file.startsWith("sem.")) continue; // named semaphores: not worth an open each
    const info = probeChannel(file);
    if (info) out.push(info);
  }
  return out;
}

/** The shape of a `KindProvider` (lib/_inspect.ts) for channels. */
export const channelProvider: {
  list(): ChannelListing[];
  remove(name: string | number): void;
} = {
  list: listChannels,
  remove: (name) => unlinkChannel(name as string),
};

/**
 * The state of the channel `name` without attaching an end (what `ipckit
 * channel stat` prints): maps it after the trust rule, reads, unmaps.
 */
export function statChannel(name: string, options: TrustOptions = {}): ChannelStatus {
  trustLevel(options, "shm_open", name);
  const memory = openShmChannel(name, options);
  try {
    return readStatus(new Int32Array(memory.mapping.buffer("stat")), memory.geometry.messageSize);
  } finally {
    memory.mapping.unmap();
    memory.descriptor.close();
  }
}
