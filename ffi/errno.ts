/**
 * errno, read on the calling thread.
 *
 * errno is thread-local. {@linkcode ERRNO} is a one-element view of this
 * thread's errno, made per isolate (a Worker imports its own copy of this
 * module, so it views its own thread's errno). Read `ERRNO[0]` inline, in the
 * expression right after the failing call, never through a function: V8
 * services interrupts (a GC step, installing compiled code) at function entry,
 * and those can overwrite errno. Measured: the first failing `open()` in a
 * fresh process read ENOENT instead of EEXIST in 2 to 6 of 100 runs through
 * `errno()`, and in 0 of 100 through `ERRNO[0]`. An allocation that triggers
 * a GC, or a failing synchronous Deno op, overwrites it too. Never read it
 * after a `nonblocking` call: those ran on a pool thread.
 *
 * @module
 */
import { ERRNO, libc } from "./libc.ts";
import { lazyTable, type PerArch } from "./platform.ts";

// The view lives beside the library handle that maps it, so that libc.ts
// needs nothing from here (no import loop); this module re-exports it.
export { ERRNO } from "./libc.ts";

/**
 * The calling thread's errno. Prefer reading `ERRNO[0]` inline at the call
 * site: a function call between the failing call and the read can let V8
 * overwrite errno.
 */
export function errno(): number {
  return ERRNO[0];
}

const names = new Map<number, string>();

/** `strerrorname_np`: `"ENOENT"` for 2; `"E<n>"` when libc does not know it. */
export function errnoName(n: number): string {
  let name = names.get(n);
  if (name === undefined) {
    const p = libc().strerrorname_np?.(n) ?? null;
    name = p ? Deno.UnsafePointerView.getCString(p) : `E${n}`;
    names.set(n, name);
  }
  return name;
}

const numbers = new Map<string, number>();

/** The errno number for a name (`"EAGAIN"` → 11), or `undefined`. */
export function errnoNumber(name: string): number | undefined {
  if (numbers.size === 0) {
    for (let i = 1; i < 134; i++) numbers.set(errnoName(i), i);
  }
  return numbers.get(name);
}

/** `strerrordesc_np`: the C library's description, lowercased first letter. */
export function errnoDescription(n: number): string {
  const p = libc().strerrordesc_np?.(n) ?? null;
  const s = p ? Deno.UnsafePointerView.getCString(p) : `error ${n}`;
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** errno values ipckit branches on (identical on x86_64 and aarch64 Linux). */
export const errnoConstants: PerArch<Record<string, number>> = {
  common: {
    EPERM: 1,
    ENOENT: 2,
    ESRCH: 3,
    EINTR: 4,
    ENXIO: 6,
    E2BIG: 7,
    EBADF: 9,
    EAGAIN: 11,
    ENOMEM: 12,
    EACCES: 13,
    EBUSY: 16,
    EEXIST: 17,
    ENOTDIR: 20,
    EISDIR: 21,
    EINVAL: 22,
    EMFILE: 24,
    EFBIG: 27,
    ENOSPC: 28,
    ESPIPE: 29,
    EPIPE: 32,
    ERANGE: 34,
    EDEADLK: 35,
    ENAMETOOLONG: 36,
    ENOSYS: 38,
    ENOMSG: 42,
    EIDRM: 43,
    EOVERFLOW: 75,
    ENOTSOCK: 88,
    EMSGSIZE: 90,
    EOPNOTSUPP: 95,
    EADDRINUSE: 98,
    EADDRNOTAVAIL: 99,
    ECONNRESET: 104,
    ENOBUFS: 105,
    ENOTCONN: 107,
    ETIMEDOUT: 110,
    ECONNREFUSED: 111,
    EINPROGRESS: 115,
  },
};

/** errno numbers by name for the running arch. */
export const E = lazyTable(errnoConstants);
