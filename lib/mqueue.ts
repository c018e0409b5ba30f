/**
 * POSIX message queues: {@linkcode createMessageQueue} makes a new queue,
 * {@linkcode openMessageQueue} opens (or with `create`, opens or creates)
 * one; a {@linkcode MessageQueue} sends and receives prioritised messages,
 * each received one an {@linkcode MqMessage} (a {@linkcode Message} with a
 * `priority`). `send()`/`receive()` wait for room or a message without
 * blocking the event loop (on Linux the queue descriptor is pollable);
 * `trySend()`/`tryReceive()` never wait and return `null` when they would.
 *
 * A name is a slash and 1 to 255 bytes (`NAME_MAX`, UTF-8) with no other slash.
 *
 * @example A queue in one script
 * ```ts
 * import { createMessageQueue } from "@ipckit/ipckit";
 * using q = createMessageQueue("/ipckit-doc-mq", { maxMessages: 4, messageSize: 64 });
 * q.remove();
 * await q.send("hello", { priority: 1 });
 * const msg = await q.receive({ timeout: 1000 });
 * console.log(msg.text(), msg.priority); // hello 1
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { mqueueLayout } from "../ffi/mqueue.ts";
import { setField } from "../ffi/struct.ts";
import { E } from "../ffi/errno.ts";
import { invalidArgument, IpcError, ipcError, sys } from "./_errors.ts";
import { statFd } from "./_stat.ts";
import { checkMode, optionsObject } from "./_validate.ts";
import { checkInt, checkPosixName, orDefault } from "./_posix.ts";
import { checkOwner, trustLevel, type TrustOptions } from "./_trust.ts";
import { procInt } from "./_host.ts";
import { MessageQueue } from "./_mq_queue.ts";

export {
  MessageQueue,
  type MessageQueueAttributes,
  type MessageQueueSendOptions,
  MqMessage,
  removeMessageQueue,
} from "./_mq_queue.ts";
export { Message } from "./message.ts";
export type { TrustOptions } from "./_trust.ts";

/** Options for {@linkcode createMessageQueue} (and `create` of {@linkcode openMessageQueue}). */
export interface CreateMessageQueueOptions {
  /** Permission bits, applied exactly (umask ignored). Default `0o600`. */
  mode?: number;
  /** Capacity in messages (limit `fs.mqueue.msg_max`). Default: that limit. */
  maxMessages?: number;
  /** Largest message in bytes (limit `fs.mqueue.msgsize_max`). Default 8192 or that limit. */
  messageSize?: number;
  /** Open for `"read"`, `"write"` or both (default `"readwrite"`). */
  access?: "read" | "write" | "readwrite";
}

/** Options for {@linkcode openMessageQueue}. */
export interface OpenMessageQueueOptions extends TrustOptions {
  /**
   * Create the queue with these options if it does not exist (an existing
   * one is opened and must pass the trust check).
   */
  create?: Omit<CreateMessageQueueOptions, "access">;
  /** Open for `"read"`, `"write"` or both (default `"readwrite"`). */
  access?: "read" | "write" | "readwrite";
}

/**
 * The kernel limits on queues, read from `/proc/sys/fs/mqueue` (undefined if unreadable).
 *
 * @example Sizing a queue within the system's limits
 * ```ts
 * import { createMessageQueue, messageQueueLimits } from "@ipckit/ipckit";
 * const { msgMax = 10 } = messageQueueLimits();
 * using q = createMessageQueue("/ipckit-doc-limits", {
 *   maxMessages: Math.min(msgMax, 64),
 *   messageSize: 128,
 * });
 * q.remove();
 * console.log(q.maxMessages <= msgMax); // true
 * ```
 */
export function messageQueueLimits(): {
  msgMax?: number;
  msgsizeMax?: number;
  queuesMax?: number;
} {
  return {
    msgMax: procInt("/proc/sys/fs/mqueue/msg_max"),
    msgsizeMax: procInt("/proc/sys/fs/mqueue/msgsize_max"),
    queuesMax: procInt("/proc/sys/fs/mqueue/queues_max"),
  };
}

/** Rewrites the two limit errors of a creating `mq_open` so they name the limit. */
function creationError(e: IpcError, name: string): IpcError {
  if (e.code === "EMFILE") {
    return ipcError({
      errno: e.errno,
      syscall: "mq_open",
      object: name,
      detail: "too many queue bytes for this user (or too many open files)",
      limit: "RLIMIT_MSGQUEUE",
      hint: "every queue reserves maxMessages × messageSize bytes against RLIMIT_MSGQUEUE " +
        "(`ulimit -q`); remove unused queues or create smaller ones",
    });
  }
  if (e.code === "ENOSPC") {
    return ipcError({
      errno: e.errno,
      syscall: "mq_open",
      object: name,
      detail: "the host has as many queues as it allows",
      limit: "fs.mqueue.queues_max",
    });
  }
  return e;
}

function accessFlag(access: unknown, name: string): number {
  const C = unistd();
  if (access === undefined || access === "readwrite") return C.O_RDWR;
  if (access === "read") return C.O_RDONLY;
  if (access === "write") return C.O_WRONLY;
  throw invalidArgument("mq_open", name, `access must be "read", "write" or "readwrite"`);
}

/** Validated creation options: the mode and the `mq_attr` to pass. */
function creation(options: CreateMessageQueueOptions, name: string) {
  options = optionsObject(options, "mq_open", name);
  const mode = checkMode(orDefault(options.mode, 0o600), "mq_open", name);
  const limits = messageQueueLimits();
  const msgMax = limits.msgMax ?? 10;
  const sizeMax = limits.msgsizeMax ?? 8192;
  const maxMessages = checkInt(
    orDefault(options.maxMessages, msgMax),
    "maxMessages",
    "mq_open",
    name,
    {
      max: msgMax,
      limit: "fs.mqueue.msg_max",
    },
  );
  const messageSize = checkInt(
    orDefault(options.messageSize, Math.min(8192, sizeMax)),
    "messageSize",
    "mq_open",
    name,
    { max: sizeMax, limit: "fs.mqueue.msgsize_max" },
  );
  const L = mqueueLayout().mq_attr;
  const attr = new Uint8Array(L.size);
  const v = new DataView(attr.buffer);
  setField(v, L, "mq_maxmsg", maxMessages);
  setField(v, L, "mq_msgsize", messageSize);
  return { mode, attr };
}

/** `mq_open(O_CREAT|O_EXCL)` with the exact mode; null if the queue exists and `orOpen`. */
function createExclusive(
  name: string,
  flags: number,
  made: { mode: number; attr: Uint8Array },
  orOpen: boolean,
): MessageQueue | null {
  const C = unistd();
  const lib = libc();
  const cname = cstr(name);
  let fd: number;
  try {
    fd = sys(
      () => lib.mq_open(cname, flags | C.O_CREAT | C.O_EXCL, made.mode, made.attr),
      "mq_open",
      name,
      { kind: "queue" },
    );
  } catch (e) {
    if (orOpen && e instanceof IpcError && e.errno === E().EEXIST) return null;
    throw e instanceof IpcError ? creationError(e, name) : e;
  }
  try {
    // mq_open applies the umask: set exactly the mode asked for.
    sys(() => lib.fchmod(fd, made.mode), "fchmod", name);
    return new MessageQueue(fd, name);
  } catch (e) {
    lib.close(fd);
    lib.mq_unlink(cname);
    throw e;
  }
}

/**
 * Creates the POSIX message queue `name`, failing with `AlreadyExists`
 * (EEXIST) if it exists: it never opens someone else's queue.
 *
 * @example
 * ```ts
 * import { createMessageQueue } from "@ipckit/ipckit";
 * using q = createMessageQueue("/ipckit-doc-create", { maxMessages: 2 });
 * q.remove();
 * console.log(q.attributes()); // { maxMessages: 2, messageSize: 8192, currentMessages: 0 }
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name, size or mode (before any syscall,
 * naming `fs.mqueue.msg_max`/`msgsize_max` when a size is over the limit);
 * ENAMETOOLONG for a name over `NAME_MAX`; `AlreadyExists` (EEXIST);
 * `PermissionDenied` (EACCES); EMFILE naming `RLIMIT_MSGQUEUE`.
 */
export function createMessageQueue(
  name: string,
  options: CreateMessageQueueOptions = {},
): MessageQueue {
  checkPosixName(name, "mq_open");
  options = optionsObject(options, "mq_open", name);
  const flags = accessFlag(options.access, name) | unistd().O_NONBLOCK | unistd().O_CLOEXEC;
  return createExclusive(name, flags, creation(options, name), false)!;
}

/**
 * Opens the existing POSIX message queue `name`; with `create`, creates it
 * first if it does not exist. An existing queue must pass the trust rule
 * (owned by this user, root or `trustedUids`, not writable by group or
 * others) unless `trust: "any"`.
 *
 * @example Open or create
 * ```ts
 * import { openMessageQueue } from "@ipckit/ipckit";
 * using q = openMessageQueue("/ipckit-doc-open", { create: { maxMessages: 2 } });
 * q.remove();
 * console.log(q.maxMessages); // 2
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name or option (before any syscall);
 * ENAMETOOLONG over `NAME_MAX`; `NotFound` (ENOENT); `PermissionDenied`
 * (EACCES, or EPERM for an untrusted existing queue); with `create`, what
 * {@linkcode createMessageQueue} throws except EEXIST.
 */
export function openMessageQueue(
  name: string,
  options: OpenMessageQueueOptions = {},
): MessageQueue {
  checkPosixName(name, "mq_open");
  options = optionsObject(options, "mq_open", name);
  trustLevel(options, "mq_open", name);
  const flags = accessFlag(options.access, name) | unistd().O_NONBLOCK | unistd().O_CLOEXEC;
  if (options.create !== undefined) {
    if (typeof options.create !== "object" || options.create === null) {
      throw invalidArgument("mq_open", name, "create must be an object of creation options");
    }
    const made = createExclusive(name, flags, creation(options.create, name), true);
    if (made) return made;
  }
  const lib = libc();
  const cname = cstr(name);
  const fd = sys(() => lib.mq_open(cname, flags, 0, null), "mq_open", name, { kind: "queue" });
  try {
    checkOwner(statFd(fd, name), options, "mq_open", name, "queue");
    return new MessageQueue(fd, name);
  } catch (e) {
    lib.close(fd);
    throw e;
  }
}
