/**
 * System V message queues: typed messages (a positive `long` type plus bytes)
 * in a kernel queue that outlives its creator, selected on receive by type.
 *
 * A System V queue has no descriptor to poll and `msgrcv`/`msgsnd` have no
 * timed variants, so a waiting {@linkcode SysvMessageQueue.receive} or
 * {@linkcode SysvMessageQueue.send} retries a non-blocking call on the JS
 * thread: first spinning (up to 500 µs while that pays off, see
 * `lib/_spinner.ts`), then napping on the pool for up to 100 ms, then on a
 * timer backoff of 1 to 20 ms (see `docs/sysv.md` for the measurements).
 * After the naps no pool thread is held; the price is a few ms of extra
 * latency for a receiver that has been idle. The `try...` variants never wait.
 *
 * @example A queue only its id reaches
 * ```ts
 * import { createSysvMessageQueue } from "@ipckit/ipckit";
 * using q = createSysvMessageQueue({ removeOnClose: true });
 * await q.send("hello", { type: 2 });
 * const msg = await q.receive({ timeout: 1000 });
 * console.log(msg.type, msg.text()); // 2 hello
 * ```
 *
 * @module
 */
import { optionsObject } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { setField } from "../ffi/struct.ts";
import { checkBytes } from "./_validate.ts";
import { sysv, sysvLayout } from "../ffi/sysv.ts";
import { invalidArgument, type IpcError, ipcError } from "./_errors.ts";
import { Deadline } from "./wait.ts";
import { sysvLimits } from "./_sysv_limits.ts";
import {
  sysvApplySet,
  sysvAttempt,
  type SysvHandleOptions,
  sysvLive,
  SysvObject,
  sysvStatView,
} from "./_sysv_object.ts";
import { createOptions, createWith, openFamily, type SysvOpenOptions } from "./_sysv_open.ts";
import { creationObject } from "./_sysv_key.ts";
import { SysvWaiter } from "./_sysv_wait.ts";
import { checkSize, checkType, msgbuf, MsgBuffer } from "./_sysv_msgbuf.ts";
import { BigCache } from "./_bigcache.ts";
import {
  type CreateSysvMessageQueueOptions,
  decodeMsqid,
  SysvMessage,
  type SysvMsgSetOptions,
  type SysvMsgStat,
  type SysvReceivedInto,
  type SysvReceiveOptions,
  type SysvReceiveSelect,
  type SysvSendOptions,
} from "./_sysv_msg_types.ts";

export {
  type CreateSysvMessageQueueOptions,
  SysvMessage,
  type SysvMsgSetOptions,
  type SysvMsgStat,
  type SysvReceivedInto,
  type SysvReceiveOptions,
  type SysvReceiveSelect,
  type SysvSendOptions,
};

const encoder = new TextEncoder();

/** The errors of a non-blocking `msgrcv` that mean "nothing to take now". */
const NO_MESSAGE = ["ENOMSG", "EAGAIN"];

/** How long a queue's capacity, read to tell "full" from "can never fit", is reused. */
const QBYTES_TTL_MS = 100;

/**
 * A System V message queue. Made by {@linkcode createSysvMessageQueue} or
 * {@linkcode openSysvMessageQueue}; `close()` (or `using`) ends the handle,
 * `remove()` deletes the queue.
 *
 * @example Messages by type
 * ```ts
 * import { createSysvMessageQueue } from "@ipckit/ipckit";
 * using q = createSysvMessageQueue({ removeOnClose: true });
 * q.trySend("low", { type: 5 });
 * q.trySend("high", { type: 1 });
 * console.log(q.tryReceive({ type: -10 })?.type); // 1: lowest type first
 * ```
 */
export class SysvMessageQueue extends SysvObject {
  /** Reusable `struct msgbuf`s: receiving and sending allocate nothing per message. */
  readonly #recv = new MsgBuffer();
  readonly #send = new MsgBuffer();
  readonly #spinner = new SysvWaiter();
  readonly #sizeBig = new BigCache();
  readonly #maxBig = new BigCache();
  readonly #typeBig = new BigCache();
  /** The queue's capacity (msg_qbytes) as last read, and when (see {@linkcode #sendOnce}). */
  #qbytes = 0;
  #qbytesAt = -Infinity;

  /**
   * Opens the queue with `id` after checking with `IPC_STAT` that it exists
   * and passes the trust rule; {@linkcode openSysvMessageQueue} also takes
   * a key.
   */
  constructor(id: number, options: SysvHandleOptions = {}) {
    super("msg", id, options);
  }

  /**
   * Writes `struct msgbuf` for `data` into the handle's reusable send buffer
   * and returns the text length.
   */
  #encode(data: Uint8Array | string, type: number, syscall: string): number {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (!(bytes instanceof Uint8Array)) {
      throw invalidArgument(syscall, this.name, "data must be a Uint8Array or a string");
    }
    // Detached or out of bounds: EINVAL, not a TypeError.
    const n = checkBytes(bytes, syscall, this.name);
    const { msgmax } = sysvLimits();
    if (n > msgmax) {
      throw ipcError({
        code: "EMSGSIZE",
        syscall,
        object: this.name,
        detail: `message of ${n} bytes exceeds kernel.msgmax (${msgmax})`,
        limit: "kernel.msgmax",
      });
    }
    this.#send.fit(n).set(bytes, msgbuf().text);
    this.#send.setType(type);
    return n;
  }

  /** One `msgsnd(IPC_NOWAIT)`: true if sent, null if the queue is full. */
  #sendOnce(buf: Uint8Array<ArrayBuffer>, size: number, syscall: string): true | null {
    const id = sysvLive(this, syscall);
    const big = this.#sizeBig.of(size);
    const r = sysvAttempt(this, () => libc().msgsnd(id, buf, big, sysv().IPC_NOWAIT), syscall);
    if (r !== null) return true;
    // Full, or a message that can never fit (the kernel says EAGAIN forever).
    // The capacity is read at most every QBYTES_TTL_MS (and whenever the
    // message looks too big): a sender retrying a full queue would otherwise
    // pay an IPC_STAT per try, and a receiver could empty a queue of 4 KiB
    // messages in that time.
    const now = performance.now();
    if (size > this.#qbytes || now - this.#qbytesAt > QBYTES_TTL_MS) {
      this.#qbytes = this.stat().queueBytes;
      this.#qbytesAt = now;
    }
    const max = this.#qbytes;
    if (size > max) {
      throw ipcError({
        code: "EMSGSIZE",
        syscall,
        object: this.name,
        detail: `message of ${size} bytes exceeds the queue's capacity (msg_qbytes ${max})`,
        limit: "msg_qbytes",
      });
    }
    return null;
  }

  /**
   * Sends one message if the queue has room now (`true`); `null` if it is
   * full. Never waits.
   *
   * @throws {IpcError} EINVAL for a type < 1; EMSGSIZE for a message larger
   * than `kernel.msgmax` or than the queue's capacity; EIDRM if the queue was
   * removed; `BadResource` (EBADF) after `close()`.
   */
  trySend(data: Uint8Array | string, options?: { type?: number }): true | null {
    const given = options === undefined
      ? undefined
      : optionsObject(options, "msgsnd", this.name).type;
    const type = given === undefined ? 1 : checkType(given, "msgsnd", this.name, 1);
    const size = this.#encode(data, type, "msgsnd");
    return this.#sendOnce(this.#send.bytes, size, "msgsnd");
  }

  /**
   * Sends one message, waiting (without blocking the event loop) while the
   * queue is full.
   *
   * @example
   * ```ts
   * import { createSysvMessageQueue } from "@ipckit/ipckit";
   * using q = createSysvMessageQueue({ removeOnClose: true });
   * await q.send(new Uint8Array([1, 2, 3]), { type: 7, timeout: 1000 });
   * ```
   *
   * @throws {IpcError} as {@linkcode trySend}; `TimedOut` (ETIMEDOUT) after
   * `timeout` ms; rejects with `signal.reason` when aborted.
   */
  async send(data: Uint8Array | string, options: SysvSendOptions = {}): Promise<void> {
    const deadline = new Deadline(options, "msgsnd", this.name);
    const type = checkType(options.type === undefined ? 1 : options.type, "msgsnd", this.name, 1);
    const size = this.#encode(data, type, "msgsnd");
    deadline.signal?.throwIfAborted();
    // The first attempt (made at once, by the waiter) sends from the handle's
    // reusable buffer; a send that has to wait first copies its message out
    // of it, since another send may reuse the shared buffer meanwhile.
    let buf = this.#send.bytes;
    await this.#spinner.wait({
      attempt: () => {
        const sent = this.#sendOnce(buf, size, "msgsnd");
        if (sent === null && buf === this.#send.bytes) buf = buf.slice(0, msgbuf().text + size);
        return sent;
      },
    }, deadline);
  }

  #select(given: SysvReceiveSelect | undefined): [number, number, number] {
    const options = optionsObject(given, "msgrcv", this.name);
    const C = sysv();
    const type = checkType(
      options.type === undefined ? 0 : options.type,
      "msgrcv",
      this.name,
      Number.MIN_SAFE_INTEGER,
    );
    const messageSize = checkSize(
      options.messageSize === undefined ? sysvLimits().msgmax : options.messageSize,
      "messageSize",
      "msgrcv",
      this.name,
    );
    let flags = C.IPC_NOWAIT;
    if (options.except) {
      if (type <= 0) {
        throw invalidArgument("msgrcv", this.name, "except needs a message type > 0");
      }
      flags |= C.MSG_EXCEPT;
    }
    if (options.truncate) flags |= C.MSG_NOERROR;
    return [type, messageSize, flags];
  }

  #receiveOnce(type: number, messageSize: number, flags: number): SysvMessage | null {
    const n = this.#receiveRaw(type, messageSize, flags);
    if (n < 0) return null;
    const at = msgbuf().text;
    return new SysvMessage(this.#recv.bytes.slice(at, at + n), this.#recv.getType());
  }

  /**
   * One attempt into the caller's `target`, which must still hold `length`
   * bytes: checked before every attempt, so a buffer detached, transferred
   * or shrunk while a wait was pending never makes msgrcv take a message it
   * cannot deliver (the message stays queued; the call fails with EINVAL).
   */
  #receiveInto(
    target: Uint8Array,
    length: number,
    type: number,
    flags: number,
  ): SysvReceivedInto | null {
    if ((target.buffer as ArrayBuffer).detached || target.byteLength < length) {
      throw invalidArgument(
        "msgrcv",
        this.name,
        `the buffer was detached or shrunk (${length} to ${target.byteLength} bytes); ` +
          "no message was taken",
      );
    }
    const n = this.#receiveRaw(type, length, flags);
    if (n < 0) return null;
    target.set(this.#recv.text(n));
    return { length: n, type: this.#recv.getType() };
  }

  /** One `msgrcv(IPC_NOWAIT)` into the handle's buffer: the text length, or -1 if none. */
  #receiveRaw(type: number, messageSize: number, flags: number): number {
    const id = sysvLive(this, "msgrcv");
    const buf = this.#recv.fit(messageSize);
    const bigMax = this.#maxBig.of(messageSize);
    const bigType = this.#typeBig.of(type);
    try {
      return sysvAttempt(
        this,
        () => libc().msgrcv(id, buf, bigMax, bigType, flags),
        "msgrcv",
        NO_MESSAGE,
      ) ?? -1;
    } catch (e) {
      if ((e as IpcError).code === "E2BIG") {
        throw ipcError({
          code: "E2BIG",
          syscall: "msgrcv",
          object: this.name,
          detail: `the next matching message is larger than messageSize (${messageSize} bytes); ` +
            "it stays queued",
          hint: "pass a larger messageSize, or truncate: true to cut it",
        });
      }
      throw e;
    }
  }

  /**
   * Takes one message if a matching one is queued now, else `null`. Never
   * waits.
   *
   * @throws {IpcError} E2BIG if the message is larger than `messageSize` (it stays
   * queued); EINVAL for a bad selection; EIDRM if the queue was removed;
   * `BadResource` (EBADF) after `close()`.
   */
  tryReceive(options: SysvReceiveSelect = {}): SysvMessage | null {
    const [type, messageSize, flags] = this.#select(options);
    return this.#receiveOnce(type, messageSize, flags);
  }

  /**
   * Like {@linkcode tryReceive}, but copies the message into `buffer` (whose
   * length is the largest message accepted) instead of allocating: returns
   * its length and type, or `null` if none is queued. Never waits.
   *
   * @example A receive loop without allocations
   * ```ts
   * import { createSysvMessageQueue } from "@ipckit/ipckit";
   * using q = createSysvMessageQueue({ removeOnClose: true });
   * q.trySend("abc");
   * const buf = new Uint8Array(64);
   * const got = q.tryReceiveInto(buf); // { length: 3, type: 1 }
   * ```
   *
   * @throws {IpcError} as {@linkcode tryReceive} (E2BIG if the message is
   * longer than `buffer`, unless `truncate`).
   */
  tryReceiveInto(
    buffer: Uint8Array,
    options?: Omit<SysvReceiveSelect, "messageSize">,
  ): SysvReceivedInto | null {
    if (!(buffer instanceof Uint8Array)) {
      throw invalidArgument("msgrcv", this.name, "buffer must be a Uint8Array");
    }
    // Without options (the streaming loop) there is nothing to select.
    if (options === undefined) {
      return this.#receiveInto(buffer, buffer.byteLength, 0, sysv().IPC_NOWAIT);
    }
    const [type, , flags] = this.#select(options);
    return this.#receiveInto(buffer, buffer.byteLength, type, flags);
  }

  /**
   * Like {@linkcode receive}, but copies the message into `buffer` instead
   * of allocating (see {@linkcode tryReceiveInto}).
   *
   * @throws {IpcError} as {@linkcode receive}.
   */
  receiveInto(
    buffer: Uint8Array,
    options: Omit<SysvReceiveOptions, "messageSize"> = {},
  ): Promise<SysvReceivedInto> {
    try {
      if (!(buffer instanceof Uint8Array)) {
        throw invalidArgument("msgrcv", this.name, "buffer must be a Uint8Array");
      }
      const deadline = new Deadline(options, "msgrcv", this.name);
      const [type, , flags] = this.#select(options);
      const length = buffer.byteLength;
      return this.#spinner.wait(
        { attempt: () => this.#receiveInto(buffer, length, type, flags) },
        deadline,
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Takes one message, waiting (without blocking the event loop) until a
   * matching one arrives.
   *
   * @example Waiting at most one second
   * ```ts
   * import { createSysvMessageQueue } from "@ipckit/ipckit";
   * using q = createSysvMessageQueue({ removeOnClose: true });
   * setTimeout(() => q.trySend("late"), 10);
   * const msg = await q.receive({ timeout: 1000 });
   * ```
   *
   * @throws {IpcError} as {@linkcode tryReceive}; EIDRM promptly if the queue
   * is removed while waiting; `TimedOut` (ETIMEDOUT) after `timeout` ms;
   * rejects with `signal.reason` when aborted.
   */
  receive(options: SysvReceiveOptions = {}): Promise<SysvMessage> {
    try {
      const deadline = new Deadline(options, "msgrcv", this.name);
      const [type, messageSize, flags] = this.#select(options);
      return this.#spinner.wait(
        { attempt: () => this.#receiveOnce(type, messageSize, flags) },
        deadline,
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Receives messages as they arrive, until `signal` aborts (the iteration
   * then ends quietly) or the queue is closed. Takes the receive options
   * (`type`, `except`, `messageSize`, `truncate`) for every message.
   *
   * @example
   * ```ts
   * import { createSysvMessageQueue } from "@ipckit/ipckit";
   * using q = createSysvMessageQueue({ removeOnClose: true });
   * q.trySend("one");
   * const ac = new AbortController();
   * for await (const m of q.messages({ signal: ac.signal })) {
   *   console.log(m.text()); // one
   *   ac.abort();
   * }
   * ```
   */
  async *messages(options: SysvReceiveOptions = {}): AsyncGenerator<SysvMessage> {
    const { signal } = optionsObject(options, "msgrcv", this.name);
    while (!this.closed && !signal?.aborted) {
      try {
        yield await this.receive(options);
      } catch (e) {
        if (signal?.aborted || this.closed) return;
        throw e;
      }
    }
  }

  /** Same as {@linkcode messages} without options. */
  [Symbol.asyncIterator](): AsyncGenerator<SysvMessage> {
    return this.messages();
  }

  /**
   * `IPC_STAT`: owner, permissions, counts, times and pids.
   *
   * @throws {IpcError} EIDRM if the queue was removed; `PermissionDenied`
   * (EACCES) without read permission.
   */
  stat(): SysvMsgStat {
    return decodeMsqid(sysvStatView(this, "msgctl(IPC_STAT)"));
  }

  /**
   * `IPC_SET`: changes owner, mode or capacity.
   *
   * @example
   * ```ts
   * import { createSysvMessageQueue } from "@ipckit/ipckit";
   * using q = createSysvMessageQueue({ removeOnClose: true });
   * q.set({ mode: 0o640, queueBytes: 4096 });
   * ```
   *
   * @throws {IpcError} `PermissionDenied` (EPERM) unless owner or creator (or
   * when raising capacity above `kernel.msgmnb` without CAP_SYS_RESOURCE).
   */
  set(changes: SysvMsgSetOptions): void {
    const syscall = "msgctl(IPC_SET)";
    const queueBytes = changes === null || typeof changes !== "object" ||
        changes.queueBytes === undefined
      ? undefined
      : checkSize(changes.queueBytes, "queueBytes", syscall, this.name);
    sysvApplySet(this, syscall, changes, (v) => {
      if (queueBytes !== undefined) setField(v, sysvLayout().msqid_ds, "msg_qbytes", queueBytes);
    }, { limit: "kernel.msgmnb" });
  }
}

const msgget = (key: number, flags: number) => libc().msgget(key, flags);

/**
 * Creates a new message queue with `IPC_CREAT|IPC_EXCL`, mode `0o600`
 * unless asked, key `IPC_PRIVATE` unless asked.
 *
 * @example A queue for peers that know its key
 * ```ts
 * import { createSysvMessageQueue } from "@ipckit/ipckit";
 * using q = createSysvMessageQueue({ key: "random", mode: 0o600, removeOnClose: true });
 * console.log(q.key.toString(16), q.id);
 * ```
 *
 * @throws {IpcError} `AlreadyExists` (EEXIST) if the key is taken; ENOSPC at
 * `kernel.msgmni` queues; EINVAL for a bad key or mode.
 */
export function createSysvMessageQueue(
  options?: CreateSysvMessageQueueOptions,
): SysvMessageQueue {
  const o = createOptions(options, "msgget");
  const queueBytes = o.queueBytes === undefined
    ? undefined
    : checkSize(o.queueBytes, "queueBytes", "msgget", creationObject(o.key));
  const [id] = createWith("msg", "msgget", o, msgget);
  const q = new SysvMessageQueue(id, { trust: "any", removeOnClose: o.removeOnClose });
  if (queueBytes !== undefined) {
    try {
      q.set({ queueBytes });
    } catch (e) {
      q.remove();
      throw e;
    }
  }
  return q;
}

/**
 * Opens an existing message queue by `key` or by `id`, after checking that
 * this user (or `trustedUids`) owns and created it and that group and others
 * cannot write to it (`trust: "any"` skips that check). With `create` and a
 * key, creates the queue if no queue has that key (open or create).
 *
 * @example
 * ```ts
 * import { createSysvMessageQueue, openSysvMessageQueue } from "@ipckit/ipckit";
 * using mine = createSysvMessageQueue({ removeOnClose: true });
 * using same = openSysvMessageQueue({ id: mine.id });
 * same.trySend("hi");
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT) for an unknown key or id;
 * `PermissionDenied` (EACCES) without read
 * permission, (EPERM) for an untrusted queue.
 */
export function openSysvMessageQueue(
  options: SysvOpenOptions<Omit<CreateSysvMessageQueueOptions, "key" | "removeOnClose">>,
): SysvMessageQueue {
  return openFamily(
    "msg",
    options,
    msgget,
    (id, trust) => new SysvMessageQueue(id, { ...trust, removeOnClose: options.removeOnClose }),
    (key, create) =>
      createSysvMessageQueue({ ...create, key, removeOnClose: options.removeOnClose }),
  );
}
