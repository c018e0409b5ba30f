/**
 * The one path from a failing call to an error. {@linkcode IpcError} It carries the
 * errno code (`"ENOENT"`), its number, the syscall and the object's name, and
 * a message a person can act on:
 *
 * ```text
 * mq_open "/jobs": no such queue (ENOENT)
 * ```
 *
 * Where Deno has a matching class, `instanceof` works too: an `ENOENT` error
 * is `instanceof Deno.errors.NotFound` as well as `instanceof IpcError`.
 *
 * @module
 */
import { E, ERRNO, errnoDescription, errnoName } from "../ffi/errno.ts";

const BRAND = Symbol.for("ipckit.IpcError");

/** What an {@linkcode IpcError} is built from. */
export interface IpcErrorInit {
  /** errno number; derived from `code` when omitted. */
  errno?: number;
  /** errno name such as `"ENOENT"`; derived from `errno` when omitted. */
  code?: string;
  /** The C function (or ipckit operation) that failed, e.g. `"mq_open"`. */
  syscall: string;
  /** The object's name, path or descriptor, when there is one. */
  object?: string | number;
  /** Noun for the object in messages (`"queue"` makes ENOENT read "no such queue"). */
  kind?: string;
  /** Replaces the errno description in the message. */
  detail?: string;
  /** Appended advice: what to do about it. */
  hint?: string;
  /** The kernel limit that was hit, e.g. `"fs.mqueue.msg_max"`. */
  limit?: string;
  /** The underlying cause, if any. */
  cause?: unknown;
}

/**
 * The error every ipckit operation throws.
 *
 * @example Telling a missing object from other failures
 * ```ts
 * import { IpcError, openFifo } from "@ipckit/ipckit";
 * try {
 *   await openFifo("/no/such/dir/fifo", "read", { timeout: 100 });
 * } catch (e) {
 *   if (e instanceof Deno.errors.NotFound) console.log("missing:", (e as IpcError).object);
 *   else throw e;
 * }
 * ```
 */
export class IpcError extends Error {
  /** errno name, e.g. `"ENOENT"`. */
  declare readonly code: string;
  /** errno number, e.g. `2`. */
  declare readonly errno: number;
  /** The C function (or ipckit operation) that failed. */
  declare readonly syscall: string;
  /** The object's name, path or descriptor, if any. */
  declare readonly object?: string | number;
  /** The kernel limit that was hit, if the failure is a limit. */
  declare readonly limit?: string;

  /** True for every error ipckit throws, whatever Deno class it also extends. */
  static override [Symbol.hasInstance](value: unknown): value is IpcError {
    return typeof value === "object" && value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** Builds a plain IpcError; prefer {@linkcode ipcError}, which also picks the Deno class. */
  constructor(init: IpcErrorInit) {
    init = checkInit(init);
    super(formatMessage(init), { cause: init.cause });
    brand(this, init);
  }
}

/**
 * `init` if it is usable; otherwise (not an object, or a `syscall`,
 * `code` or `errno` of the wrong type) the init of an EINVAL error that says
 * so, so that building an error never throws a TypeError of its own.
 */
function checkInit(init: IpcErrorInit): IpcErrorInit {
  const ok = typeof init === "object" && init !== null &&
    typeof init.syscall === "string" &&
    (init.code === undefined || typeof init.code === "string") &&
    (init.errno === undefined || Number.isInteger(init.errno));
  return ok ? init : {
    code: "EINVAL",
    syscall: "IpcError",
    detail: "an IpcError needs { syscall: string, code?: string, errno?: integer }",
  };
}

function codeAndNumber(init: IpcErrorInit): [string, number] {
  if (init.errno !== undefined) return [init.code ?? errnoName(init.errno), init.errno];
  const code = init.code ?? "EIO";
  return [code, E()[code] ?? 0];
}

function brand(target: Error, init: IpcErrorInit): void {
  const [code, number] = codeAndNumber(init);
  Object.defineProperties(target, {
    [BRAND]: { value: true },
    name: { value: "IpcError", configurable: true, writable: true },
    code: { value: code, enumerable: true },
    errno: { value: number, enumerable: true },
    syscall: { value: init.syscall, enumerable: true },
    object: { value: init.object, enumerable: true },
    limit: { value: init.limit, enumerable: true },
  });
}

const friendly: Record<string, (kind: string) => string> = {
  ENOENT: (k) => `no such ${k}`,
  EEXIST: (k) => `${k} already exists`,
  EACCES: (k) => `permission denied on this ${k}`,
  EPERM: () => "operation not permitted",
  EAGAIN: () => "would block (not ready now)",
  ETIMEDOUT: () => "timed out",
  EBADF: () => "bad or closed descriptor",
  EPIPE: () => "the other end is closed (broken pipe)",
  ENXIO: () => "no process has the other end open",
  ENAMETOOLONG: (k) => `${k} name too long`,
  EIDRM: (k) => `${k} was removed`,
  ESRCH: () => "no such process",
};

function formatMessage(init: IpcErrorInit): string {
  const [code, number] = codeAndNumber(init);
  const what = init.object === undefined ? "" : ` ${objectText(init.object)}`;
  const detail = init.detail ?? friendly[code]?.(init.kind ?? "file or object") ??
    (number ? errnoDescription(number) : code);
  const hint = init.hint ? `; ${init.hint}` : "";
  return `${init.syscall}${what}: ${detail} (${code})${hint}`;
}

/**
 * The object as quoted in a message. Callers pass a name or a number, but a
 * wrong-typed argument can end up here (a bigint path, a symbol): the
 * message must still be made, not throw a TypeError of its own.
 */
function objectText(object: unknown): string {
  if (typeof object === "string" || typeof object === "number") return JSON.stringify(object);
  try {
    return String(object);
  } catch {
    return typeof object;
  }
}

type ErrorClass = new (message: string, options?: ErrorOptions) => Error;

const denoClassFor: Record<string, ErrorClass> = {
  ENOENT: Deno.errors.NotFound,
  ESRCH: Deno.errors.NotFound,
  EEXIST: Deno.errors.AlreadyExists,
  EACCES: Deno.errors.PermissionDenied,
  EPERM: Deno.errors.PermissionDenied,
  ETIMEDOUT: Deno.errors.TimedOut,
  EPIPE: Deno.errors.BrokenPipe,
  EAGAIN: Deno.errors.WouldBlock,
  EINTR: Deno.errors.Interrupted,
  EBADF: Deno.errors.BadResource,
  ECONNREFUSED: Deno.errors.ConnectionRefused,
  ECONNRESET: Deno.errors.ConnectionReset,
  EADDRINUSE: Deno.errors.AddrInUse,
  EADDRNOTAVAIL: Deno.errors.AddrNotAvailable,
  ENOTCONN: Deno.errors.NotConnected,
  EISDIR: Deno.errors.IsADirectory,
  ENOTDIR: Deno.errors.NotADirectory,
  EBUSY: Deno.errors.Busy,
};

const derived = new Map<ErrorClass, ErrorClass>();

/**
 * Builds the {@linkcode IpcError} for `init`, as an instance of the matching
 * `Deno.errors` class when there is one.
 */
export function ipcError(init: IpcErrorInit): IpcError {
  init = checkInit(init);
  const [code] = codeAndNumber(init);
  const Base = denoClassFor[code];
  if (!Base) return new IpcError(init);
  let Derived = derived.get(Base);
  if (!Derived) {
    Derived = class extends Base {};
    derived.set(Base, Derived);
  }
  const err = new Derived(formatMessage(init), { cause: init.cause });
  brand(err, init);
  return err as IpcError;
}

/** Context for {@linkcode check}: what the failing call was about. */
export type CallContext = Omit<IpcErrorInit, "syscall" | "errno" | "code" | "object">;

/**
 * Returns `ret` unless it is `-1`, in which case errno is read and the
 * matching {@linkcode IpcError} is thrown. The read happens after a function
 * call (this one), where V8 may have overwritten errno: library code uses
 * {@linkcode sys}/{@linkcode sysOnce}, which read it inline.
 */
export function check(
  ret: number,
  syscall: string,
  object?: string | number,
  ctx?: CallContext,
): number {
  if (ret !== -1) return ret;
  const n = ERRNO[0];
  throw ipcError({ errno: n, syscall, object, ...ctx });
}

/**
 * Runs a synchronous libc call once (no EINTR retry: for `close()`, whose
 * descriptor is gone even when it reports EINTR) and returns its result, or
 * throws the {@linkcode IpcError} with errno read inline.
 */
export function sysOnce(
  call: () => number,
  syscall: string,
  object?: string | number,
  ctx?: CallContext,
): number {
  const ret = call();
  if (ret !== -1) return ret;
  const n = ERRNO[0];
  throw ipcError({ errno: n, syscall, object, ...ctx });
}

/**
 * Runs a synchronous libc call, retrying on EINTR, and returns its result or
 * throws the {@linkcode IpcError}. For calls that return `-1` on failure.
 */
export function sys(
  call: () => number,
  syscall: string,
  object?: string | number,
  ctx?: CallContext,
): number {
  for (;;) {
    const ret = call();
    if (ret !== -1) return ret;
    const n = ERRNO[0];
    if (n !== E().EINTR) throw ipcError({ errno: n, syscall, object, ...ctx });
  }
}

/** The would-block codes most non-blocking calls report. */
const AGAIN: readonly string[] = ["EAGAIN"];

/**
 * Like {@linkcode sys}, but returns `null` instead of throwing when errno is
 * one of `wouldBlock` (default `EAGAIN`): the expected "not ready yet" of a
 * non-blocking attempt. Every other errno, EFAULT included, throws.
 */
export function trySys(
  call: () => number,
  syscall: string,
  object?: string | number,
  ctx?: CallContext,
  wouldBlock: readonly string[] = AGAIN,
): number | null {
  for (;;) {
    const ret = call();
    if (ret !== -1) return ret;
    const n = ERRNO[0];
    if (n === E().EINTR) continue;
    if (n === E().EAGAIN && wouldBlock === AGAIN) return null;
    if (wouldBlock !== AGAIN && wouldBlock.includes(errnoName(n))) return null;
    throw ipcError({ errno: n, syscall, object, ...ctx });
  }
}

/**
 * For calls that return the error number itself instead of setting errno
 * (`posix_fallocate`, `pthread_*`): retries EINTR, throws anything else.
 */
export function sysReturn(
  call: () => number,
  syscall: string,
  object?: string | number,
  ctx?: CallContext,
): void {
  for (;;) {
    const r = call();
    if (r === 0) return;
    if (r !== E().EINTR) throw ipcError({ errno: r, syscall, object, ...ctx });
  }
}

/**
 * For calls that return a pointer and set errno on failure (`mmap`, `shmat`,
 * `opendir`): `failed(ptr)` says whether it failed. Retries EINTR.
 */
export function sysPointer(
  call: () => Deno.PointerValue,
  failed: (p: Deno.PointerValue) => boolean,
  syscall: string,
  object?: string | number,
  ctx?: CallContext,
): Deno.PointerObject {
  return trySysPointer(call, failed, syscall, object, ctx, [])!;
}

/** Like {@linkcode sysPointer}, but `null` when errno is one of `absent` (`"ENOENT"`). */
export function trySysPointer(
  call: () => Deno.PointerValue,
  failed: (p: Deno.PointerValue) => boolean,
  syscall: string,
  object: string | number | undefined,
  ctx: CallContext | undefined,
  absent: readonly string[],
): Deno.PointerObject | null {
  for (;;) {
    const p = call();
    if (!failed(p)) return p as Deno.PointerObject;
    const n = ERRNO[0];
    if (n === E().EINTR) continue;
    if (absent.length > 0 && absent.includes(errnoName(n))) return null;
    throw ipcError({ errno: n, syscall, object, ...ctx });
  }
}

/** The error for bad input, raised before any syscall is made. */
export function invalidArgument(
  syscall: string,
  object: string | number | undefined,
  detail: string,
  ctx?: CallContext,
): IpcError {
  return ipcError({ code: "EINVAL", syscall, object, detail, ...ctx });
}

/** The error for a method called on a closed handle; never reaches libc. */
export function closedError(syscall: string, object?: string | number): IpcError {
  return ipcError({
    code: "EBADF",
    syscall,
    object,
    detail: "the handle is closed",
  });
}

/** The error for a wait that ran out of time. */
export function timedOut(
  syscall: string,
  object: string | number | undefined,
  ms: number,
): IpcError {
  return ipcError({ code: "ETIMEDOUT", syscall, object, detail: `timed out after ${ms} ms` });
}
