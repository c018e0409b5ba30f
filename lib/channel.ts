/**
 * Channels: a single-producer single-consumer ring of messages in shared
 * memory, between two processes (Deno or C, see `include/ipckit_channel.h`).
 * Messages are copied into and out of the mapped ring with typed arrays and
 * `Atomics`, with no system call per message; a side that has to wait spins
 * briefly, then sleeps on a futex, and is woken only if it said it sleeps.
 *
 * The memory is a POSIX shared-memory object opened by name
 * ({@linkcode createChannel}, {@linkcode openChannel}) or a memfd passed as a
 * descriptor ({@linkcode createChannelMemfd}, {@linkcode openChannelFd}).
 * Each end records its pid: a peer that closes, or dies, ends the other
 * side's waits with EPIPE instead of a hang. `docs/channel.md` has the
 * layout and the protocol.
 *
 * @example
 * ```ts
 * import { createChannel, openChannel } from "@ipckit/ipckit/channel";
 * const name = `/doc-${crypto.randomUUID()}`;
 * using tx = createChannel(name, "send", { capacity: 64, messageSize: 256 });
 * using rx = openChannel(name, "receive");
 * tx.remove();
 * await tx.sendMany(["one", "two"]);
 * for (const m of await rx.receiveMany({ timeout: 1000 })) console.log(m.text());
 * ```
 *
 * @module
 */
import type { TrustOptions } from "./_trust.ts";
import { trustLevel } from "./_trust.ts";
import { invalidArgument } from "./_errors.ts";
import { checkPosixName } from "./_posix.ts";
import { describe, optionsObject } from "./_validate.ts";
import {
  type ChannelMemory,
  type ChannelSizeOptions,
  createMemfdChannel,
  createShmChannel,
  openFdChannel,
  openShmChannel,
  unlinkChannel,
} from "./_channel_open.ts";
import { CHANNEL, ChannelHandle, type ChannelStatus } from "./_channel_base.ts";
import { type ChannelListing, listChannels as listChannelObjects } from "./_channel_inspect.ts";
import { ChannelSender } from "./_channel_sender.ts";
import { ChannelReceiver, type ReceiveManyOptions } from "./_channel_receiver.ts";
import type { ChannelEnd, MessageVisitor } from "./_channel_ring.ts";

export { ChannelHandle, ChannelReceiver, ChannelSender };
export type { TrustOptions } from "./_trust.ts";
export type {
  ChannelEnd,
  ChannelListing,
  ChannelSizeOptions,
  ChannelStatus,
  MessageVisitor,
  ReceiveManyOptions,
};

/** Options of {@linkcode createChannel}. */
export interface CreateChannelOptions extends ChannelSizeOptions {
  /** Permission bits, applied exactly (the umask does not apply). Default `0o600`. */
  mode?: number;
}

/** Options of {@linkcode openChannel}. */
export interface OpenChannelOptions extends TrustOptions {
  /** Create the channel with these options if it does not exist. */
  create?: CreateChannelOptions;
}

/** The handle type for an end. */
export type ChannelOf<E extends ChannelEnd> = E extends "send" ? ChannelSender : ChannelReceiver;

function checkEnd(end: unknown, syscall: string, name: string): ChannelEnd {
  if (end !== "send" && end !== "receive") {
    throw invalidArgument(syscall, name, `end must be "send" or "receive", got ${describe(end)}`);
  }
  return end;
}

function endOf<E extends ChannelEnd>(memory: ChannelMemory, end: E, posix: boolean): ChannelOf<E> {
  return (end === "send"
    ? new ChannelSender(CHANNEL, memory, end, posix)
    : new ChannelReceiver(CHANNEL, memory, end, posix)) as ChannelOf<E>;
}

/**
 * Creates the channel `name` (a POSIX shared-memory object, `"/jobs"`) and
 * attaches `end`. Fails with `AlreadyExists` (EEXIST) if the name exists.
 *
 * @example
 * ```ts
 * import { createChannel } from "@ipckit/ipckit/channel";
 * using tx = createChannel(`/doc-${crypto.randomUUID()}`, "send", { messageSize: 64 });
 * tx.remove();
 * ```
 *
 * @throws {IpcError} EEXIST; EINVAL for a bad name, capacity or size; ENOSPC.
 */
export function createChannel<E extends ChannelEnd>(
  name: string,
  end: E,
  options?: CreateChannelOptions,
): ChannelOf<E> {
  checkPosixName(name, "shm_open");
  checkEnd(end, "shm_open", name);
  const o = optionsObject(options, "shm_open", name);
  return endOf(createShmChannel(name, o, o.mode), end, true);
}

/**
 * Opens the existing channel `name` and attaches `end`; with `create`,
 * creates it first if it does not exist. The object must pass the trust
 * rule (owner and mode), its header and size are checked before use.
 *
 * @example
 * ```ts
 * import { openChannel } from "@ipckit/ipckit/channel";
 * const name = `/doc-${crypto.randomUUID()}`;
 * using rx = openChannel(name, "receive", { create: { capacity: 16, messageSize: 128 } });
 * rx.remove();
 * ```
 *
 * @throws {IpcError} ENOENT; EPERM for an untrusted object; EPROTO for an
 * object that is not a channel; EBUSY if a live process holds `end`.
 */
export function openChannel<E extends ChannelEnd>(
  name: string,
  end: E,
  options: OpenChannelOptions = {},
): ChannelOf<E> {
  checkPosixName(name, "shm_open");
  checkEnd(end, "shm_open", name);
  const o = optionsObject(options, "shm_open", name);
  trustLevel(o, "shm_open", name);
  const create = o.create === undefined || (o.create as unknown) === false
    ? undefined
    : optionsObject(o.create, "shm_open", name);
  if (create) {
    try {
      return endOf(createShmChannel(name, create, create.mode), end, true);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  return endOf(openShmChannel(name, o), end, true);
}

/**
 * Creates an anonymous channel in a memfd (its size sealed) and attaches
 * `end`; hand {@linkcode ChannelHandle.handle} to the peer (inherit it, or
 * pass it over a Unix socket) and open it there with
 * {@linkcode openChannelFd}. Nothing is left behind when both close.
 *
 * @example
 * ```ts
 * import { createChannelMemfd } from "@ipckit/ipckit/channel";
 * using rx = createChannelMemfd("receive", { capacity: 16, messageSize: 128 });
 * console.log(rx.handle.fd >= 0); // true
 * ```
 */
export function createChannelMemfd<E extends ChannelEnd>(
  end: E,
  options?: ChannelSizeOptions,
): ChannelOf<E> {
  checkEnd(end, "memfd_create", "memfd");
  return endOf(createMemfdChannel(optionsObject(options, "memfd_create", "memfd")), end, false);
}

/**
 * Attaches `end` to the channel behind descriptor `fd` (inherited, or
 * received over a Unix socket), taking ownership of `fd`.
 *
 * @example
 * ```ts
 * import { createChannelMemfd, openChannelFd } from "@ipckit/ipckit/channel";
 * using tx = createChannelMemfd("send", { capacity: 4, messageSize: 16 });
 * using rx = openChannelFd(tx.handle.dup().release(), "receive");
 * tx.trySend("hi");
 * console.log(rx.tryReceive()?.text()); // hi
 * ```
 *
 * @throws {IpcError} EBADF; EPERM for an untrusted object; EPROTO.
 */
export function openChannelFd<E extends ChannelEnd>(
  fd: number,
  end: E,
  options: TrustOptions = {},
): ChannelOf<E> {
  const object = typeof fd === "number" ? `fd ${fd}` : undefined;
  checkEnd(end, "open", object ?? "fd");
  const o = optionsObject(options, "open", object);
  trustLevel(o, "open", object ?? "fd");
  return endOf(openFdChannel(fd, o), end, false);
}

/**
 * Removes the channel's name (`shm_unlink`); ends already open keep working.
 *
 * @example
 * ```ts
 * import { createChannel, removeChannel } from "@ipckit/ipckit/channel";
 * const name = `/doc-${crypto.randomUUID()}`;
 * createChannel(name, "send").close();
 * removeChannel(name);
 * ```
 */
export function removeChannel(name: string): void {
  unlinkChannel(name);
}

/**
 * Every channel in `/dev/shm` this process can read: name, owner, mode,
 * capacity, message size, messages waiting and the pids of both ends. The
 * objects are opened read-only and only their header is read.
 *
 * @example
 * ```ts
 * import { createChannel, listChannels } from "@ipckit/ipckit/channel";
 * const name = `/doc-${crypto.randomUUID()}`;
 * using tx = createChannel(name, "send");
 * console.log(listChannels().some((c) => c.name === name)); // true
 * tx.remove();
 * ```
 */
export function listChannels(): ChannelListing[] {
  return listChannelObjects();
}
