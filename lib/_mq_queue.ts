/**
 * The open POSIX message queue handle ({@linkcode MessageQueue}), its
 * received message ({@linkcode MqMessage}) and {@linkcode removeMessageQueue}.
 * Opening and creating live in `mqueue.ts`, the public surface.
 *
 * @module
 */
import { describe, optionsObject } from "./_validate.ts";
import { BigCache } from "./_bigcache.ts";
import { cstr, libc } from "../ffi/libc.ts";
import { mqueue, mqueueLayout } from "../ffi/mqueue.ts";
import { getField } from "../ffi/struct.ts";
import { invalidArgument, IpcError, ipcError, sys, trySys } from "./_errors.ts";
import { Descriptor } from "./fd.ts";
import { Message } from "./message.ts";
import { checkPosixName, detachedError, isDetached, orDefault } from "./_posix.ts";
import { Deadline, spinnerFor, untilReady, waitFd, type WaitOptions } from "./wait.ts";

const encoder = new TextEncoder();
const QUEUE = { kind: "queue" };

/** Attributes of a queue, from `mq_getattr`. */
export interface MessageQueueAttributes {
  /** Capacity in messages. */
  maxMessages: number;
  /** Largest message in bytes. */
  messageSize: number;
  /** Messages queued now. */
  currentMessages: number;
}

/**
 * A message received from a POSIX queue: a {@linkcode Message} with its priority.
 *
 * @example The highest priority comes out first
 * ```ts
 * import { createMessageQueue } from "@ipckit/ipckit";
 * using q = createMessageQueue("/ipckit-doc-mq-message", { maxMessages: 2, messageSize: 16 });
 * q.remove();
 * q.trySend("routine", { priority: 1 });
 * q.trySend("urgent", { priority: 9 });
 * const m = q.tryReceive()!;
 * console.log(m.text(), m.priority); // urgent 9
 * ```
 */
export class MqMessage extends Message {
  /** Its priority (0 to 32767; higher is received first). */
  readonly priority: number;
  /** Wraps `bytes` received with `priority`. */
  constructor(bytes: Uint8Array<ArrayBuffer>, priority: number) {
    super(bytes);
    this.priority = priority;
  }
}

/** Options for {@linkcode MessageQueue.send}. */
export interface MessageQueueSendOptions extends WaitOptions {
  /** 0 (default) to 32767; higher priorities are received first. */
  priority?: number;
}

/**
 * Removes the queue `name`; processes that have it open keep using it until
 * they close it.
 *
 * @example
 * ```ts
 * import { createMessageQueue, removeMessageQueue } from "@ipckit/ipckit";
 * createMessageQueue("/ipckit-doc-remove", { maxMessages: 1 }).close();
 * removeMessageQueue("/ipckit-doc-remove");
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name; ENAMETOOLONG over `NAME_MAX`;
 * `NotFound` (ENOENT); `PermissionDenied` (EACCES).
 */
export function removeMessageQueue(name: string): void {
  checkPosixName(name, "mq_unlink");
  const c = cstr(name);
  sys(() => libc().mq_unlink(c), "mq_unlink", name, QUEUE);
}

/**
 * An open POSIX message queue, a {@linkcode Descriptor}: close it with
 * `close()` or `using`. Made by `createMessageQueue` / `openMessageQueue`.
 *
 * @example Async iteration over received messages
 * ```ts
 * import { createMessageQueue } from "@ipckit/ipckit";
 * using q = createMessageQueue("/ipckit-doc-iter", { maxMessages: 4, messageSize: 32 });
 * q.remove();
 * q.trySend("a");
 * q.trySend("b");
 * const ac = new AbortController();
 * for await (const m of q.messages({ signal: ac.signal })) {
 *   console.log(m.text());
 *   if (m.text() === "b") break;
 * }
 * ```
 */
export class MessageQueue extends Descriptor {
  /** Largest message in bytes (fixed when the queue was created). */
  readonly messageSize: number;
  /** Capacity in messages. */
  readonly maxMessages: number;
  readonly #buf: Uint8Array<ArrayBuffer>;
  readonly #bufLen: bigint;
  readonly #sendLen = new BigCache();
  readonly #intoLen = new BigCache();
  // Off-heap (own ArrayBuffer): V8 keeps arrays of <= 64 bytes on its heap, which FFI
  // "buffer" arguments pay for on every call.
  readonly #prio = new Uint32Array(new ArrayBuffer(8), 0, 1);
  readonly #attr = new Uint8Array(new ArrayBuffer(128), 0, mqueueLayout().mq_attr.size);

  /**
   * Takes ownership of the open queue descriptor `fd` (checked with
   * `mq_getattr`). Prefer `createMessageQueue` / `openMessageQueue`.
   *
   * @throws {IpcError} EBADF if `fd` is not an open queue.
   */
  constructor(fd: number, name: string) {
    super(fd, { name, nonBlocking: false });
    const a = this.attributes();
    this.messageSize = a.messageSize;
    this.maxMessages = a.maxMessages;
    this.#buf = new Uint8Array(new ArrayBuffer(Math.max(a.messageSize, 128)), 0, a.messageSize);
    this.#bufLen = BigInt(a.messageSize);
  }

  /** Current attributes: capacity, message size and messages queued now. */
  attributes(): MessageQueueAttributes {
    const fd = this.fd;
    const L = mqueueLayout().mq_attr;
    sys(() => libc().mq_getattr(fd, this.#attr), "mq_getattr", this.name, QUEUE);
    const v = new DataView(this.#attr.buffer);
    return {
      maxMessages: getField(v, L, "mq_maxmsg"),
      messageSize: getField(v, L, "mq_msgsize"),
      currentMessages: getField(v, L, "mq_curmsgs"),
    };
  }

  /** The message bytes of `data`, checked against the queue's message size. */
  #encode(data: Uint8Array | string, op: string): Uint8Array {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) {
      throw invalidArgument(op, this.name, "data must be a Uint8Array or a string");
    }
    // A detached view has length 0; only then look at its buffer (reading
    // `.buffer` of a small on-heap array would copy it off the heap).
    if (bytes.byteLength === 0 && isDetached(bytes)) throw detachedError(op, this.name);
    if (bytes.byteLength > this.messageSize) {
      throw ipcError({
        code: "EMSGSIZE",
        syscall: op,
        object: this.name,
        detail: `message of ${bytes.byteLength} bytes is longer than the queue's messageSize ` +
          `(${this.messageSize})`,
      });
    }
    return bytes;
  }

  /** The priority option, 0 when not given. */
  #priority(options: { priority?: number }, op: string): number {
    const prio = orDefault(options.priority, 0);
    if (
      typeof prio !== "number" || !Number.isInteger(prio) || prio < 0 ||
      prio >= mqueue().MQ_PRIO_MAX
    ) {
      throw invalidArgument(
        op,
        this.name,
        `priority must be an integer from 0 to ${mqueue().MQ_PRIO_MAX - 1}, got ${describe(prio)}`,
      );
    }
    return prio;
  }

  /**
   * One non-blocking attempt: the call's result, or `null` if it would block.
   * errno can be overwritten between a call and its read (a GC run by a V8
   * interrupt; seen as ENOENT after mq_receive), so a failure other than
   * EAGAIN is checked against the queue's state (`blocked()`) as a second
   * guard, retried once, and only then reported.
   */
  #attempt(call: () => number, syscall: string, blocked: (count: number) => boolean) {
    try {
      return trySys(call, syscall, this.name, QUEUE);
    } catch (e) {
      // EFAULT is a buffer the kernel could not use: for mq_receive the message
      // is already gone, so it must never be read as "empty, wait".
      if (e instanceof IpcError && (e.code === "EFAULT" || e.code === "EBADF")) throw e;
      if (blocked(this.#count())) return null;
      return trySys(call, syscall, this.name, QUEUE);
    }
  }

  /** Messages queued now, or -1 if that cannot be read (only a hint for #attempt). */
  #count(): number {
    const L = mqueueLayout().mq_attr;
    if (libc().mq_getattr(this.fd, this.#attr) !== 0) return -1;
    return getField(new DataView(this.#attr.buffer), L, "mq_curmsgs");
  }

  #send(bytes: Uint8Array, prio: number, length = bytes.byteLength): true | null {
    // Checked before every attempt: the caller may detach or shrink the
    // buffer while a send waits for room.
    if (bytes.byteLength !== length) {
      throw isDetached(bytes) ? detachedError("mq_send", this.name) : invalidArgument(
        "mq_send",
        this.name,
        `the message buffer was resized from ${length} to ${bytes.byteLength} bytes while the ` +
          "send was waiting",
      );
    }
    const fd = this.fd;
    const len = this.#sendLen.of(length);
    const r = this.#attempt(
      () => libc().mq_send(fd, bytes, len, prio),
      "mq_send",
      (n) => n >= this.maxMessages,
    );
    return r === null ? null : true;
  }

  /** Receives into `buf` (at least messageSize bytes): the length, or null if empty. */
  #receiveRaw(buf: Uint8Array, len: bigint): number | null {
    const fd = this.fd;
    return this.#attempt(
      () => libc().mq_receive(fd, buf, len, this.#prio),
      "mq_receive",
      (n) => n === 0,
    );
  }

  #receive(): MqMessage | null {
    const n = this.#receiveRaw(this.#buf, this.#bufLen);
    return n === null ? null : new MqMessage(this.#buf.slice(0, n), this.#prio[0]);
  }

  /**
   * Sends now if there is room: `true` if sent, `null` if the queue is full
   * (it would have to wait). Never waits.
   *
   * @throws {IpcError} EMSGSIZE if longer than `messageSize`; EINVAL for a bad priority.
   */
  trySend(data: Uint8Array | string, options?: { priority?: number }): true | null {
    const bytes = this.#encode(data, "mq_send");
    // Without options (the streaming loop) nothing is allocated to read them.
    const prio = options === undefined
      ? 0
      : this.#priority(optionsObject(options, "mq_send", this.name), "mq_send");
    return this.#send(bytes, prio);
  }

  /**
   * Sends, waiting for room without blocking the event loop.
   *
   * @throws {IpcError} `TimedOut` (ETIMEDOUT) after `timeout`; the signal's reason on abort;
   * EMSGSIZE; EINVAL.
   */
  async send(data: Uint8Array | string, options: MessageQueueSendOptions = {}): Promise<void> {
    options = optionsObject(options, "mq_send", this.name);
    const bytes = this.#encode(data, "mq_send");
    const prio = this.#priority(options, "mq_send");
    const deadline = new Deadline(options, "mq_send", this.name);
    const length = bytes.byteLength;
    if (this.#send(bytes, prio, length)) return;
    await untilReady(
      this.fd,
      "write",
      () => this.#send(bytes, prio, length),
      deadline,
      spinnerFor(this),
    );
  }

  /**
   * The length to pass for `buffer`, checked before every attempt: a buffer
   * detached or shrunk (a resizable `ArrayBuffer`) while a receive waits must
   * not reach `mq_receive`, which would dequeue the message and then fail to
   * copy it (EFAULT), losing it.
   */
  #checkInto(buffer: Uint8Array, op: string): bigint {
    if (!(buffer instanceof Uint8Array)) {
      throw invalidArgument(op, this.name, "buffer must be a Uint8Array");
    }
    if (buffer.byteLength < this.messageSize) {
      if (isDetached(buffer)) throw detachedError(op, this.name);
      throw invalidArgument(
        op,
        this.name,
        `buffer must be a Uint8Array of at least messageSize (${this.messageSize}) bytes, ` +
          `got ${buffer.byteLength}`,
      );
    }
    return this.#intoLen.of(buffer.byteLength);
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
    return n === null ? null : { length: n, priority: this.#prio[0] };
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
    this.#checkInto(buffer, "mq_receive");
    const deadline = new Deadline(options, "mq_receive", this.name);
    const attempt = () => {
      const n = this.#receiveRaw(buffer, this.#checkInto(buffer, "mq_receive"));
      return n === null ? null : { length: n, priority: this.#prio[0] };
    };
    const now = attempt();
    if (now) return now;
    return await untilReady(this.fd, "read", attempt, deadline, spinnerFor(this));
  }

  /** Receives the highest-priority message now, or `null` if the queue is empty. Never waits. */
  tryReceive(): MqMessage | null {
    return this.#receive();
  }

  /**
   * Receives the highest-priority message, waiting for one without blocking
   * the event loop.
   *
   * @throws {IpcError} `TimedOut` (ETIMEDOUT) after `timeout`; the signal's reason on abort;
   * `BadResource` if the queue is closed meanwhile.
   */
  async receive(options?: WaitOptions): Promise<MqMessage> {
    const deadline = new Deadline(options, "mq_receive", this.name);
    const now = this.#receive();
    if (now) return now;
    return await untilReady(this.fd, "read", () => this.#receive(), deadline, spinnerFor(this));
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
  async *messages(options: { signal?: AbortSignal } = {}): AsyncGenerator<MqMessage> {
    const { signal } = optionsObject(options, "mq_receive", this.name);
    new Deadline({ signal }, "mq_receive", this.name); // validates the signal
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
  [Symbol.asyncIterator](): AsyncGenerator<MqMessage> {
    return this.messages();
  }

  /** Removes the queue's name (see {@linkcode removeMessageQueue}); this handle stays usable. */
  remove(): void {
    removeMessageQueue(this.name);
  }
}
