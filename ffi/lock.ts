/**
 * `<sys/file.h>`, `<fcntl.h>`: file locks: `flock`, and `fcntl` record locks
 * (classic `F_SETLK`/`F_SETLKW`/`F_GETLK` and open-file-description
 * `F_OFD_*`) on byte ranges described by a `struct flock`.
 *
 * `fcntl` is variadic; its lock commands take a `struct flock *`, so it is
 * declared a second time under `fcntl_lock` with a `buffer` third argument.
 * `pread`/`pwrite` return `ssize_t` but are declared `i32` (callers pass at
 * most 2^30 bytes), like `read`/`write` in `unistd.ts`.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const lockSymbols = {
  flock: { parameters: ["i32", "i32"], result: "i32" },
  fcntl_lock: { name: "fcntl", parameters: ["i32", "i32", "buffer"], result: "i32" },
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "i32" },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const lockConstants: PerArch<Record<string, number>> = {
  common: {
    LOCK_SH: 1,
    LOCK_EX: 2,
    LOCK_NB: 4,
    LOCK_UN: 8,
    F_RDLCK: 0,
    F_WRLCK: 1,
    F_UNLCK: 2,
    F_GETLK: 5,
    F_SETLK: 6,
    F_SETLKW: 7,
    F_OFD_GETLK: 36,
    F_OFD_SETLK: 37,
    F_OFD_SETLKW: 38,
    SEEK_SET: 0,
    SEEK_CUR: 1,
    SEEK_END: 2,
  },
};

/** Struct layouts for this area. */
export const lockLayouts: PerArch<Record<string, Layout>> = {
  common: {
    flock: {
      c: "struct flock",
      size: 32,
      fields: { l_type: [0, 2], l_whence: [2, 2], l_start: [8, 8], l_len: [16, 8], l_pid: [24, 4] },
    },
  },
};

/** Headers the layout probe includes for this area. */
export const lockHeaders: string[] = ["sys/file.h", "fcntl.h", "unistd.h", "sys/stat.h"];

/** The running arch's constants for this area. */
export const lock = lazyTable(lockConstants);
/** The running arch's layouts for this area. */
export const lockLayout = lazyTable(lockLayouts);
