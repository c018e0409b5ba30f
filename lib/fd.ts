/**
 * Descriptors: {@linkcode Descriptor}, the one owner of an open descriptor
 * that every ipckit handle builds on, and {@linkcode FdHandle}, a descriptor
 * that carries bytes. Reads and writes never block the event loop, partial
 * transfers are handled, and after `close()` every method throws a
 * `BadResource` error without touching the descriptor number, which may
 * already belong to someone else.
 *
 * @example
 * ```ts
 * import { createPipe } from "@ipckit/ipckit/pipe";
 * using pipe = createPipe();
 * console.log(pipe.reader.closeOnExec); // true
 * ```
 *
 * @module
 */
import { concatBytes } from "./_bytes.ts";
import { BigCache } from "./_bigcache.ts";
import { libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { closedError, invalidArgument, sys, sysOnce, trySys } from "./_errors.ts";
import { checkBytes, checkFlag, describe, MAX_IO, optionsObject } from "./_validate.ts";
import {
  cancelWaits,
  Deadline,
  spinnerFor,
  startWait,
  untilReady,
  type WaitOptions,
} from "./wait.ts";

/** A raw descriptor number, branded so a count or pid cannot be passed by mistake. */
export type Fd = number & { readonly __fd: unique symbol };

/** Options for taking ownership of an existing descriptor. */
export interface FdHandleOptions {
  /** Name shown in errors (a path, or `"pipe[r]"`). Defaults to `fd <n>`. */
  name?: string;
  /**
   * Make the descriptor non-blocking (the default), so no call on it can
   * stall the event loop. Pass `false` for descriptors whose blocking flag
   * another program shares and relies on (a lock file handed to a child).
   */
  nonBlocking?: boolean;
}

/**
 * The one owner of an open descriptor: every ipckit handle that holds a
 * descriptor (byte streams, sockets, message queues, lock files, eventfd,
 * pidfd, signalfd, shared memory) is one of these or holds one. It decides in
 * one place what closing means: idempotent `close()`, `using`, pending waits
 * rejected with `BadResource`, close-on-exec, hand-over to a child
 * ({@linkcode withInheritedFds}) and {@linkcode Descriptor.release}. After
 * `close()` every method throws `BadResource` (EBADF) without touching the
 * number, which may already belong to someone else.
 *
 * @example A private copy of standard input
 * ```ts
 * import { Descriptor } from "@ipckit/ipckit";
 * using stdin = new Descriptor(0, { name: "stdin", nonBlocking: false });
 * using copy = stdin.dup();
 * stdin.release(); // not ours to close
 * console.log(copy.closeOnExec); // true
 * ```
 */
export class Descriptor implements Disposable {
  #fd: number;
  /** Name shown in errors. */
  readonly name: string;

  /**
   * Takes ownership of `fd` (checked to be open with `fcntl`) and, unless
   * `nonBlocking: false`, makes it non-blocking. The caller must not close
   * `fd` itself.
   *
   * @throws {IpcError} EINVAL for a value that is not a descriptor number;
   * EBADF if `fd` is not open.
   */
  constructor(fd: number, options: FdHandleOptions = {}) {
    if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      throw invalidArgument("fcntl", undefined, `not a descriptor number: ${describe(fd)}`);
    }
    const { name, nonBlocking } = optionsObject(options, "fcntl", fd);
    if (name !== undefined && typeof name !== "string") {
      throw invalidArgument("fcntl", fd, `name must be a string, got ${describe(name)}`);
    }
    const keepNonBlocking = checkFlag(nonBlocking, "nonBlocking", "fcntl", fd, true);
    this.#fd = fd + 0; // -0 is 0, which FFI's i32 would refuse with a TypeError
    this.name = name ?? `fd ${this.#fd}`;
    if (keepNonBlocking) this.nonBlocking = true;
    else this.#flags(unistd().F_GETFD, "fcntl(F_GETFD)"); // proves it is open
  }

  /** The descriptor number. Throws once closed. */
  get fd(): Fd {
    if (this.#fd < 0) throw closedError("fd", this.name);
    return this.#fd as Fd;
  }

  /** Whether {@linkcode close} has been called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  #flags(get: number, syscall: string): number {
    const fd = this.fd;
    return sys(() => libc().fcntl(fd, get, 0), syscall, this.name);
  }

  /** `O_NONBLOCK` on the open file description (shared with any dup or child). */
  get nonBlocking(): boolean {
    return (this.#flags(unistd().F_GETFL, "fcntl(F_GETFL)") & unistd().O_NONBLOCK) !== 0;
  }
  set nonBlocking(on: boolean) {
    checkFlag(on, "nonBlocking", "fcntl(F_SETFL)", this.name, null);
    const C = unistd();
    const flags = this.#flags(C.F_GETFL, "fcntl(F_GETFL)");
    const next = on ? flags | C.O_NONBLOCK : flags & ~C.O_NONBLOCK;
    if (next !== flags) {
      const fd = this.fd;
      sys(() => libc().fcntl(fd, C.F_SETFL, next), "fcntl(F_SETFL)", this.name);
    }
  }

  /** `FD_CLOEXEC`: whether the descriptor is closed in programs this process starts. */
  get closeOnExec(): boolean {
    return (this.#flags(unistd().F_GETFD, "fcntl(F_GETFD)") & unistd().FD_CLOEXEC) !== 0;
  }
  set closeOnExec(on: boolean) {
    checkFlag(on, "closeOnExec", "fcntl(F_SETFD)", this.name, null);
    const C = unistd();
    const fd = this.fd;
    sys(() => libc().fcntl(fd, C.F_SETFD, on ? C.FD_CLOEXEC : 0), "fcntl(F_SETFD)", this.name);
  }

  /**
   * A second descriptor for the same open file (`F_DUPFD_CLOEXEC`), owned by
   * a new plain {@linkcode Descriptor}.
   */
  dup(): Descriptor {
    const fd = this.fd;
    const C = unistd();
    const copy = sys(
      () => libc().fcntl(fd, C.F_DUPFD_CLOEXEC, 3),
      "fcntl(F_DUPFD_CLOEXEC)",
      this.name,
    );
    return new Descriptor(copy, { name: this.name, nonBlocking: false });
  }

  /** Closes the descriptor. Idempotent; pending waits on it reject with `BadResource`. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    cancelWaits(fd, closedError("close", this.name));
    this.onClose();
    // The number is gone from us even if close reports an error (EINTR included).
    sysOnce(() => libc().close(fd), "close", this.name);
  }

  /**
   * Called once by {@linkcode close} before the descriptor is closed; a
   * subclass releases what depends on the descriptor (a mapping, a path).
   */
  protected onClose(): void {}

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Gives up ownership and returns the descriptor number; the handle is
   * closed afterwards but the descriptor stays open.
   */
  release(): Fd {
    const fd = this.fd;
    cancelWaits(fd, closedError("release", this.name));
    this.#fd = -1;
    return fd;
  }
}

/**
 * A {@linkcode Descriptor} that carries bytes: pipes, FIFOs, stream sockets,
 * files. Reads and writes never block the event loop (the descriptor is kept
 * non-blocking and waits go through the shared reactor), and partial
 * transfers are handled.
 *
 * @example Reading what a child writes to a pipe
 * ```ts
 * import { createPipe } from "@ipckit/ipckit";
 * using pipe = createPipe();
 * await pipe.writer.writeAll(new TextEncoder().encode("hello"));
 * pipe.writer.close();
 * console.log(new TextDecoder().decode(await pipe.reader.readAll())); // hello
 * ```
 */
export class FdHandle extends Descriptor {
  readonly #readLen = new BigCache();
  readonly #writeLen = new BigCache();
  #readable?: ReadableStream<Uint8Array<ArrayBuffer>>;
  #writable?: WritableStream<Uint8Array>;

  /**
   * Reads what is available now into `buffer`: the byte count, `0` at end of
   * file, or `null` if nothing is available yet. Never waits.
   */
  tryRead(buffer: Uint8Array): number | null {
    const fd = this.fd;
    const len = this.#readLen.of(Math.min(checkBytes(buffer, "read", this.name), MAX_IO));
    return trySys(() => libc().read(fd, buffer, len), "read", this.name);
  }

  /**
   * Reads into `buffer` once data is available: the byte count (possibly
   * less than `buffer.length`), or `null` at end of file.
   */
  async read(buffer: Uint8Array, options?: WaitOptions): Promise<number | null> {
    // Options are validated, and an aborted signal honoured, before the first
    // attempt; without options there is nothing to check (the fast path).
    const deadline = options !== undefined ? startWait(options, "read", this.name) : undefined;
    const size = checkBytes(buffer, "read", this.name);
    if (size === 0) return 0;
    const fd = this.fd;
    const n = this.tryRead(buffer) ??
      await untilReady(
        fd,
        "read",
        // The caller may detach or shrink the buffer while we wait: a
        // zero-length read would then look like end of file.
        () => (checkBytes(buffer, "read", this.name, size), this.tryRead(buffer)),
        deadline || new Deadline(undefined, "read", this.name),
        spinnerFor(this),
      );
    return n === 0 ? null : n;
  }

  /** Reads until end of file and returns everything. */
  async readAll(options?: WaitOptions): Promise<Uint8Array<ArrayBuffer>> {
    const chunks: Uint8Array[] = [];
    const deadline = startWait(options, "read", this.name);
    const fd = this.fd;
    for (;;) {
      const chunk = new Uint8Array(65536);
      const n = await untilReady(fd, "read", () => this.tryRead(chunk), deadline, spinnerFor(this));
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
    }
    return concatBytes(chunks);
  }

  /** Writes what fits now: the byte count, or `null` if nothing fits. Never waits. */
  tryWrite(data: Uint8Array): number | null {
    const fd = this.fd;
    const len = this.#writeLen.of(Math.min(checkBytes(data, "write", this.name), MAX_IO));
    return trySys(() => libc().write(fd, data, len), "write", this.name);
  }

  /** Writes once room is available; returns how many bytes were written (maybe fewer). */
  async write(data: Uint8Array, options?: WaitOptions): Promise<number> {
    const deadline = options !== undefined ? startWait(options, "write", this.name) : undefined;
    const size = checkBytes(data, "write", this.name);
    if (size === 0) return 0;
    return this.tryWrite(data) ??
      await untilReady(
        this.fd,
        "write",
        () => (checkBytes(data, "write", this.name, size), this.tryWrite(data)),
        deadline || new Deadline(undefined, "write", this.name),
        spinnerFor(this),
      );
  }

  /** Writes all of `data`, waiting for room as often as needed. */
  async writeAll(data: Uint8Array, options?: WaitOptions): Promise<void> {
    // Without options there is nothing to validate: the fast path makes no Deadline.
    const given = options && startWait(options, "write", this.name);
    const size = checkBytes(data, "write", this.name);
    const view = data as ArrayBufferView;
    const bytes = data instanceof Uint8Array
      ? data
      : new Uint8Array(view.buffer, view.byteOffset, size);
    let done = this.tryWrite(bytes) ?? 0;
    if (done === size) return;
    const deadline = given || new Deadline(undefined, "write", this.name);
    const fd = this.fd;
    while (done < size) {
      done += await untilReady(
        fd,
        "write",
        () => {
          // Detached or shrunk while we waited: the rest would silently be
          // "written" as nothing.
          checkBytes(data, "write", this.name, size);
          return this.tryWrite(bytes.subarray(done));
        },
        deadline,
        spinnerFor(this),
      );
    }
  }

  /** A byte stream of what is read until end of file. Closing the stream does not close the handle. */
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return this.#readable ??= new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        const chunk = new Uint8Array(65536);
        const n = await this.read(chunk);
        if (n === null) controller.close();
        else controller.enqueue(chunk.subarray(0, n));
      },
    });
  }

  /** A stream whose chunks are written in full, in order. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.writeAll(chunk),
    });
  }
}

/** Options for {@linkcode withInheritedFds}. */
export interface InheritOptions {
  /**
   * Hand the descriptors over: make them blocking (what most programs expect
   * of an inherited pipe end) and close this process's copies after the
   * spawn. `O_NONBLOCK` belongs to the open file description, which parent
   * and child share, so a blocking descriptor is never kept here. Default
   * `false`: the child sees the descriptors non-blocking and this process
   * keeps its handles.
   */
  handOver?: boolean;
}

/**
 * Runs `spawn` (typically `new Deno.Command(...).spawn()`) with the given
 * handles inheritable, so the child finds them open under the same numbers
 * (pass `handle.fd` to it in its arguments or environment). Close-on-exec is
 * restored right after, so other children do not inherit them.
 *
 * @example Handing a pipe's write end to a child
 * ```ts
 * import { createPipe, withInheritedFds } from "@ipckit/ipckit";
 * using pipe = createPipe();
 * const child = withInheritedFds([pipe.writer], () =>
 *   new Deno.Command("bash", { args: ["-c", `echo hi >&${pipe.writer.fd}`] }).spawn(),
 *   { handOver: true });
 * console.log(new TextDecoder().decode(await pipe.reader.readAll()));
 * await child.status;
 * ```
 */
export function withInheritedFds<T>(
  handles: Descriptor[],
  spawn: () => T,
  options: InheritOptions = {},
): T {
  if (!Array.isArray(handles) || !handles.every((h) => h instanceof Descriptor)) {
    throw invalidArgument("fcntl(F_SETFD)", undefined, "handles must be an array of Descriptors");
  }
  if (typeof spawn !== "function") {
    throw invalidArgument(
      "fcntl(F_SETFD)",
      undefined,
      `spawn must be a function, got ${describe(spawn)}`,
    );
  }
  const handOver = checkFlag(
    optionsObject(options, "fcntl(F_SETFD)").handOver,
    "handOver",
    "fcntl(F_SETFD)",
    undefined,
  );
  const closed = handles.find((h) => h.closed);
  if (closed) throw closedError("fcntl(F_SETFD)", closed.name);
  for (const h of handles) {
    h.closeOnExec = false;
    if (handOver) h.nonBlocking = false;
  }
  try {
    return spawn();
  } finally {
    for (const h of handles) {
      if (h.closed) continue;
      if (handOver) h.close();
      else h.closeOnExec = true;
    }
  }
}
