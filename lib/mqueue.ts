/**
 * POSIX message queues: {@linkcode openMessageQueue} creates or opens a
 * queue; a {@linkcode MessageQueue} sends and receives prioritised messages.
 * `send()`/`receive()` wait for room or a message without blocking the event
 * loop (on Linux the queue descriptor is pollable); `trySend()`/`tryReceive()`
 * never wait.
 *
 * @example A queue in one script
 * ```ts
 * import { openMessageQueue } from "@ipckit/ipckit";
 * using q = openMessageQueue("/ipckit-doc-mq", { create: true, maxMessages: 4, messageSize: 64 });
 * q.unlink();
 * await q.send("hello", { priority: 1 });
 * const msg = await q.receive({ timeout: 1000 });
 * console.log(msg.text(), msg.priority); // hello 1
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { mqueue, mqueueLayout } from "../ffi/mqueue.ts";
import { getField, setField } from "../ffi/struct.ts";
import { E, ERRNO } from "../ffi/errno.ts";
import { closedError, invalidArgument, ipcError, sys, sysOnce } from "./_errors.ts";
import { statFd } from "./_stat.ts";
import { checkMode } from "./_validate.ts";
import { checkInt, checkPosixName, checkTrusted, type TrustOptions } from "./_posix.ts";
import { procInt } from "./_host.ts";
import { cancelWaits, Deadline, Spinner, untilReady, waitFd, type WaitOptions } from "./wait.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options for {@linkcode openMessageQueue}. */
export interface OpenMessageQueueOptions extends TrustOptions {
  /** Create the queue. Without `exclusive`, an existing queue is opened instead. */
  create?: boolean;
  /** With `create`: fail with `AlreadyExists` (EEXIST) if the queue exists. */
  exclusive?: boolean;
  /** Permission bits of a created queue, applied exactly (umask ignored). Default `0o600`. */
  mode?: number;
  /** Capacity in messages of a created queue (limit `fs.mqueue.msg_max`). Default: that limit. */
  maxMessages?: number;
  /** Largest message of a created queue in bytes (limit `fs.mqueue.msgsize_max`). Default 8192 or that limit. */
  messageSize?: number;
  /** Open for `"read"`, `"write"` or both (default `"readwrite"`). */
  access?: "read" | "write" | "readwrite";
}

/** Attributes of a queue, from `mq_getattr`. */
export interface MessageQueueAttributes {
  /** Capacity in messages. */
  maxMessages: number;
  /** Largest message in bytes. */
  messageSize: number;
  /** Messages queued now. */
  currentMessages: number;
}

/** One received message. */
export class Message {
  /** The message bytes. */
  readonly data: Uint8Array<ArrayBuffer>;
  /** Its priority (0 to 32767; higher is received first). */
  readonly priority: number;
  /** Wraps `data` received with `priority`. */
  constructor(data: Uint8Array<ArrayBuffer>, priority: number) {
    this.data = data;
    this.priority = priority;
  }
  /** The bytes decoded as UTF-8. */
  text(): string {
    return decoder.decode(this.data);
  }
}

/** Options for {@linkcode MessageQueue.send} and {@linkcode MessageQueue.trySend}. */
export interface MessageQueueSendOptions extends WaitOptions {
  /** 0 (default) to 32767; higher priorities are received first. */
  priority?: number;
}

/** The kernel limits on queues, read from `/proc/sys/fs/mqueue` (undefined if unreadable). */
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

function openError(e: number, name: string, creating: boolean) {
  const C = E();
  if (e === C.EMFILE && creating) {
    return ipcError({
      errno: e,
      syscall: "mq_open",
      object: name,
      detail: "too many queue bytes for this user (or too many open files)",
      limit: "RLIMIT_MSGQUEUE",
      hint: "every queue reserves maxMessages × messageSize bytes against RLIMIT_MSGQUEUE " +
        "(`ulimit -q`); remove unused queues or create smaller ones",
    });
  }
  if (e === C.ENOSPC) {
    return ipcError({
      errno: e,
      syscall: "mq_open",
      object: name,
      detail: "the host has as many queues as it allows",
      limit: "fs.mqueue.queues_max",
    });
  }
  return ipcError({ errno: e, syscall: "mq_open", object: name, kind: "queue" });
}

/**
 * Opens (or, with `create`, creates) the POSIX message queue `name`.
 *
 * @example Create a queue that must not exist yet
 * ```ts
 * import { openMessageQueue } from "@ipckit/ipckit";
 * using q = openMessageQueue("/ipckit-doc-create", { create: true, exclusive: true, maxMessages: 2 });
 * console.log(q.attributes()); // { maxMessages: 2, messageSize: 8192, currentMessages: 0 }
 * q.unlink();
 * ```
 *
 * @throws {IpcError} `InvalidArgument`-style EINVAL for a bad name, size or
 * mode (before any syscall, naming `fs.mqueue.msg_max`/`msgsize_max` when a
 * size is over the limit); `AlreadyExists` (EEXIST); `NotFound` (ENOENT);
 * `PermissionDenied` (EACCES, or EPERM for an untrusted existing queue);
 * EMFILE naming `RLIMIT_MSGQUEUE`.
 */
export function openMessageQueue(
  name: string,
  options: OpenMessageQueueOptions = {},
): MessageQueue {
  checkPosixName(name, "mq_open");
  const C = unistd();
  const access = options.access ?? "readwrite";
  if (access !== "read" && access !== "write" && access !== "readwrite") {
    throw invalidArgument("mq_open", name, `access must be "read", "write" or "readwrite"`);
  }
  const accFlag = access === "read" ? C.O_RDONLY : access === "write" ? C.O_WRONLY : C.O_RDWR;
  const flags = accFlag | C.O_NONBLOCK | C.O_CLOEXEC;
  const cname = cstr(name);
  const lib = libc();
  if (options.create) {
    const mode = checkMode(options.mode ?? 0o600, "mq_open", name);
    const limits = messageQueueLimits();
    const msgMax = limits.msgMax ?? 10;
    const sizeMax = limits.msgsizeMax ?? 8192;
    const maxMessages = checkInt(options.maxMessages ?? msgMax, "maxMessages", "mq_open", name, {
      max: msgMax,
      limit: "fs.mqueue.msg_max",
    });
    const messageSize = checkInt(
      options.messageSize ?? Math.min(8192, sizeMax),
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
    for (;;) {
      const fd = lib.mq_open(cname, flags | C.O_CREAT | C.O_EXCL, mode, attr);
      if (fd >= 0) {
        try {
          // mq_open applies the umask: set exactly the mode asked for.
          sys(() => lib.fchmod(fd, mode), "fchmod", name);
        } catch (e) {
          lib.mq_close(fd);
          lib.mq_unlink(cname);
          throw e;
        }
        return new MessageQueue(fd, name);
      }
      const e = ERRNO[0];
      if (e === E().EINTR) continue;
      if (e === E().EEXIST && !options.exclusive) break; // open the existing one below
      throw openError(e, name, true);
    }
  }
  let fd: number;
  for (;;) {
    fd = lib.mq_open(cname, flags, 0, null);
    if (fd >= 0) break;
    const e = ERRNO[0];
    if (e !== E().EINTR) throw openError(e, name, false);
  }
  try {
    checkTrusted(statFd(fd, name), "mq_open", name, "queue", options);
  } catch (e) {
    lib.mq_close(fd);
    throw e;
  }
  return new MessageQueue(fd, name);
}

/**
 * Removes the queue `name`; processes that have it open keep using it until
 * they close it.
 *
 * @example
 * ```ts
 * import { openMessageQueue, unlinkMessageQueue } from "@ipckit/ipckit";
 * openMessageQueue("/ipckit-doc-unlink", { create: true, maxMessages: 1 }).close();
 * unlinkMessageQueue("/ipckit-doc-unlink");
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT); `PermissionDenied` (EACCES).
 */
export function unlinkMessageQueue(name: string): void {
  checkPosixName(name, "mq_unlink");
  const c = cstr(name);
  sys(() => libc().mq_unlink(c), "mq_unlink", name, { kind: "queue" });
}

/**
 * An open POSIX message queue. Close it with `close()` or `using`.
 *
 * @example Async iteration over received messages
 * ```ts
 * import { openMessageQueue } from "@ipckit/ipckit";
 * using q = openMessageQueue("/ipckit-doc-iter", { create: true, maxMessages: 4, messageSize: 32 });
 * q.unlink();
 * q.trySend("a");
 * q.trySend("b");
 * const ac = new AbortController();
 * for await (const m of q.messages({ signal: ac.signal })) {
 *   console.log(m.text());
 *   if (m.text() === "b") break;
 * }
 * ```
 */
export class MessageQueue implements Disposable {
  #fd: number;
  /** The queue's name (`"/jobs"`). */
  readonly name: string;
  /** Largest message in bytes (fixed when the queue was created). */
  readonly messageSize: number;
  /** Capacity in messages. */
  readonly maxMessages: number;
  readonly #buf: Uint8Array<ArrayBuffer>;
  readonly #bufLen: bigint;
  readonly #spinner = new Spinner();
  // Off-heap (own ArrayBuffer): V8 keeps arrays of <= 64 bytes on its heap, which FFI
  // "buffer" arguments pay for on every call.
  readonly #prio = new Uint32Array(new ArrayBuffer(8), 0, 1);
  readonly #attr: Uint8Array<ArrayBuffer>;

  /** Wraps an open queue descriptor (from {@linkcode openMessageQueue}). */
  constructor(fd: number, name: string) {
    this.#fd = fd;
    this.name = name;
    this.#attr = new Uint8Array(new ArrayBuffer(128), 0, mqueueLayout().mq_attr.size);
    const a = this.attributes();
    this.messageSize = a.messageSize;
    this.maxMessages = a.maxMessages;
    this.#buf = new Uint8Array(new ArrayBuffer(Math.max(a.messageSize, 128)), 0, a.messageSize);
    this.#bufLen = BigInt(a.messageSize);
  }

  /** The queue descriptor. Throws `BadResource` once closed. */
  get fd(): number {
    if (this.#fd < 0) throw closedError("mq", this.name);
    return this.#fd;
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Current attributes: capacity, message size and messages queued now. */
  attributes(): MessageQueueAttributes {
    const fd = this.fd;
    const L = mqueueLayout().mq_attr;
    sys(() => libc().mq_getattr(fd, this.#attr), "mq_getattr", this.name);
    const v = new DataView(this.#attr.buffer);
    return {
      maxMessages: getField(v, L, "mq_maxmsg"),
      messageSize: getField(v, L, "mq_msgsize"),
      currentMessages: getField(v, L, "mq_curmsgs"),
    };
  }

  #encode(data: Uint8Array | string, priority: number | undefined, op: string): {
    bytes: Uint8Array;
    prio: number;
  } {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) {
      throw invalidArgument(op, this.name, "data must be a Uint8Array or a string");
    }
    const prio = priority ?? 0;
    if (!Number.isInteger(prio) || prio < 0 || prio >= mqueue().MQ_PRIO_MAX) {
      throw invalidArgument(
        op,
        this.name,
        `priority must be an integer from 0 to ${mqueue().MQ_PRIO_MAX - 1}, got ${prio}`,
      );
    }
    if (bytes.byteLength > this.messageSize) {
      throw ipcError({
        code: "EMSGSIZE",
        syscall: op,
        object: this.name,
        detail: `message of ${bytes.byteLength} bytes is longer than the queue's messageSize ` +
          `(${this.messageSize})`,
      });
    }
    return { bytes, prio };
  }

  #send(bytes: Uint8Array, prio: number): boolean {
    const fd = this.fd;
    for (let tries = 0;; tries++) {
      const r = libc().mq_send(fd, bytes, BigInt(bytes.byteLength), prio);
      if (r === 0) return true;
      const e = ERRNO[0];
      if (e === E().EAGAIN) return false;
      if (e === E().EINTR) continue;
      // errno can be overwritten between the call and the read (a GC run by a
      // V8 interrupt; seen as ENOENT after mq_receive): trust "would block" from
      // the queue's state, retry once, and only then report errno.
      if (this.#count() >= this.maxMessages) return false;
      if (tries === 0) continue;
      throw ipcError({ errno: e, syscall: "mq_send", object: this.name, kind: "queue" });
    }
  }

  /** Messages queued now, or -1 if that cannot be read. */
  #count(): number {
    const L = mqueueLayout().mq_attr;
    if (libc().mq_getattr(this.fd, this.#attr) !== 0) return -1;
    return getField(new DataView(this.#attr.buffer), L, "mq_curmsgs");
  }

  /**
   * Sends now if there is room: `true` if sent, `false` if the queue is full.
   * Never waits.
   *
   * @throws {IpcError} EMSGSIZE if longer than `messageSize`; EINVAL for a bad priority.
   */
  trySend(data: Uint8Array | string, options: { priority?: number } = {}): boolean {
    const { bytes, prio } = this.#encode(data, options.priority, "mq_send");
    return this.#send(bytes, prio);
  }

  /**
   * Sends, waiting for room without blocking the event loop.
   *
   * @throws {IpcError} `TimedOut` (ETIMEDOUT) after `timeout`; the signal's reason on abort;
   * EMSGSIZE; EINVAL.
   */
  async send(data: Uint8Array | string, options: MessageQueueSendOptions = {}): Promise<void> {
    const { bytes, prio } = this.#encode(data, options.priority, "mq_send");
    if (this.#send(bytes, prio)) return;
    const deadline = new Deadline(options, "mq_send", this.name);
    await untilReady(
      this.fd,
      "write",
      () => this.#send(bytes, prio) || null,
      deadline,
      this.#spinner,
    );
  }

  /** Receives into `buf` (at least messageSize bytes): the length, or -1 if empty. */
  #receiveRaw(buf: Uint8Array, len: bigint): number {
    const fd = this.fd;
    for (let tries = 0;; tries++) {
      const n = libc().mq_receive(fd, buf, len, this.#prio);
      if (n >= 0) return n;
      const e = ERRNO[0];
      if (e === E().EAGAIN) return -1;
      if (e === E().EINTR) continue;
      // See #send: errno may have been overwritten; an empty queue means "would block".
      if (this.#count() === 0) return -1;
      if (tries === 0) continue;
      throw ipcError({ errno: e, syscall: "mq_receive", object: this.name, kind: "queue" });
    }
  }

  #receive(): Message | null {
    const n = this.#receiveRaw(this.#buf, this.#bufLen);
    return n < 0 ? null : new Message(this.#buf.slice(0, n), this.#prio[0]);
  }

  #checkInto(buffer: Uint8Array, op: string): bigint {
    if (!(buffer instanceof Uint8Array) || buffer.byteLength < this.messageSize) {
      throw invalidArgument(
        op,
        this.name,
        `buffer must be a Uint8Array of at least messageSize (${this.messageSize}) bytes`,
      );
    }
    return BigInt(buffer.byteLength);
  }

  /**
   * Receives the highest-priority message now into `buffer` (at least
   * `messageSize` bytes), without allocating: its length and priority, or
   * `null` if the queue is empty. Never waits. For hot loops.
   *
   * @throws {IpcError} EINVAL if `buffer` is shorter than `messageSize`.
   */
  tryReceiveInto(buffer: Uint8Array): { length: number; priority: number } | null {
    const n = this.#receiveRaw(buffer, this.#checkInto(buffer, "mq_receive"));
    return n < 0 ? null : { length: n, priority: this.#prio[0] };
  }

  /**
   * Like {@linkcode tryReceiveInto}, waiting for a message without blocking the event loop.
   *
   * @throws {IpcError} EINVAL for a short buffer; `TimedOut` (ETIMEDOUT); the signal's reason.
   */
  async receiveInto(
    buffer: Uint8Array,
    options?: WaitOptions,
  ): Promise<{ length: number; priority: number }> {
    const len = this.#checkInto(buffer, "mq_receive");
    const attempt = () => {
      const n = this.#receiveRaw(buffer, len);
      return n < 0 ? null : { length: n, priority: this.#prio[0] };
    };
    const now = attempt();
    if (now) return now;
    return await untilReady(
      this.fd,
      "read",
      attempt,
      new Deadline(options, "mq_receive", this.name),
      this.#spinner,
    );
  }

  /** Receives the highest-priority message now, or `null` if the queue is empty. Never waits. */
  tryReceive(): Message | null {
    return this.#receive();
  }

  /**
   * Receives the highest-priority message, waiting for one without blocking
   * the event loop.
   *
   * @throws {IpcError} `TimedOut` (ETIMEDOUT) after `timeout`; the signal's reason on abort;
   * `BadResource` if the queue is closed meanwhile.
   */
  async receive(options?: WaitOptions): Promise<Message> {
    const now = this.#receive();
    if (now) return now;
    const deadline = new Deadline(options, "mq_receive", this.name);
    return await untilReady(this.fd, "read", () => this.#receive(), deadline, this.#spinner);
  }

  /**
   * Resolves once the queue holds a message, without taking it: the way to
   * be told that a message arrived on an empty queue (what `mq_notify` is for
   * in C, without its signal or thread).
   */
  async waitForMessage(options?: WaitOptions): Promise<void> {
    const deadline = new Deadline(options, "mq_notify", this.name);
    while (this.attributes().currentMessages === 0) {
      await waitFd(this.fd, "read", deadline);
    }
  }

  /**
   * Receives messages as they arrive, until `signal` aborts (the iteration
   * then ends quietly) or the queue is closed.
   */
  async *messages(options: { signal?: AbortSignal } = {}): AsyncGenerator<Message> {
    const { signal } = options;
    while (!this.closed && !signal?.aborted) {
      try {
        yield await this.receive({ signal });
      } catch (e) {
        if (signal?.aborted || this.closed) return;
        throw e;
      }
    }
  }

  /** Same as {@linkcode messages} without a signal. */
  [Symbol.asyncIterator](): AsyncGenerator<Message> {
    return this.messages();
  }

  /** Removes the queue's name (see {@linkcode unlinkMessageQueue}); this handle stays usable. */
  unlink(): void {
    unlinkMessageQueue(this.name);
  }

  /** Closes the descriptor. Idempotent; pending waits reject with `BadResource`. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    cancelWaits(fd, closedError("mq_close", this.name));
    sysOnce(() => libc().mq_close(fd), "mq_close", this.name);
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
