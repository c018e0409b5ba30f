/**
 * `<semaphore.h>` and `<time.h>`: POSIX semaphores (named and unnamed) and
 * the clock the timed waits take.
 *
 * A semaphore has no descriptor, so a wait is a `sem_trywait` on the JS
 * thread plus, as a wake-up hint, a `sem_clockwait` slice on Deno's pool
 * (`sem_clockwait_nb`, `nonblocking`, errno never read). `SEM_FAILED` is
 * `NULL` on glibc: `sem_open` returns a null pointer on failure.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const semaphoreSymbols = {
  sem_open: { parameters: ["buffer", "i32", "u32", "u32"], result: "pointer" },
  sem_close: { parameters: ["pointer"], result: "i32" },
  sem_unlink: { parameters: ["buffer"], result: "i32" },
  sem_post: { parameters: ["pointer"], result: "i32" },
  sem_trywait: { parameters: ["pointer"], result: "i32" },
  sem_getvalue: { parameters: ["pointer", "buffer"], result: "i32" },
  sem_init: { parameters: ["pointer", "i32", "u32"], result: "i32" },
  sem_destroy: { parameters: ["pointer"], result: "i32" },
  /** A park slice on the pool: a wake-up hint only, errno never read. */
  sem_clockwait_nb: {
    name: "sem_clockwait",
    parameters: ["pointer", "i32", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const semaphoreConstants: PerArch<Record<string, number>> = {
  common: { SEM_VALUE_MAX: 2147483647, CLOCK_REALTIME: 0, CLOCK_MONOTONIC: 1 },
};

/** Struct layouts for this area. */
export const semaphoreLayouts: PerArch<Record<string, Layout>> = {
  common: {
    sem_t: { c: "sem_t", size: 32, fields: {} },
    timespec: { c: "struct timespec", size: 16, fields: { tv_sec: [0, 8], tv_nsec: [8, 8] } },
  },
};

/** Headers the layout probe includes for this area. */
export const semaphoreHeaders: string[] = ["semaphore.h", "time.h", "limits.h"];

/** The running arch's constants for this area. */
export const semaphore = lazyTable(semaphoreConstants);
/** The running arch's layouts for this area. */
export const semaphoreLayout = lazyTable(semaphoreLayouts);
