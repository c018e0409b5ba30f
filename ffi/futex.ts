/**
 * `<linux/futex.h>` through `syscall(SYS_futex, ...)`: sleeping on a 32-bit
 * word in shared memory until another process changes it and wakes us.
 *
 * The operations are the non-private ones (`FUTEX_WAIT`, `FUTEX_WAKE`, not
 * the `_PRIVATE` variants), so they work across processes on a `MAP_SHARED`
 * mapping: the kernel keys the wait by the page's inode and offset. glibc has
 * no wrapper, hence `syscall()`, whose number differs per arch. The `long`
 * result is declared `i32` (only 0, a wake count or -1 come back) so it does
 * not allocate a BigInt.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";

/** libc symbols for this area. */
export const futexSymbols = {
  /** `syscall(SYS_futex, uaddr, FUTEX_WAKE, count, NULL, NULL, 0)`. */
  futex_wake: {
    name: "syscall",
    parameters: ["i64", "pointer", "i32", "i32", "pointer", "pointer", "i32"],
    result: "i32",
  },
  /**
   * `syscall(SYS_futex, uaddr, FUTEX_WAIT, expected, &relative_timespec, NULL, 0)`
   * on Deno's blocking pool: a wake-up hint only, its errno is never read.
   */
  futex_wait_nb: {
    name: "syscall",
    parameters: ["i64", "pointer", "i32", "i32", "buffer", "pointer", "i32"],
    result: "i32",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const futexConstants: PerArch<Record<string, number>> = {
  common: { FUTEX_WAIT: 0, FUTEX_WAKE: 1 },
  x86_64: { SYS_futex: 202 },
  aarch64: { SYS_futex: 98 },
};

/** Headers the layout probe includes for this area. */
export const futexHeaders: string[] = ["linux/futex.h", "sys/syscall.h"];

/** The running arch's constants for this area. */
export const futex = lazyTable(futexConstants);
