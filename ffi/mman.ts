/**
 * `<sys/mman.h>`: POSIX shared memory, mmap and memfd.
 *
 * `mmap` returns a pointer; failure is `MAP_FAILED`, the pointer value -1
 * (all bits set), not `NULL`. `posix_fallocate` returns the error number
 * itself instead of setting errno. Sizes and offsets are `off_t` (i64).
 *
 * Also the two host queries the size checks need before anything is
 * allocated: `fstatvfs` (free space of the tmpfs behind an object) and
 * `getrlimit` (`RLIMIT_FSIZE`, whose excess is a fatal SIGXFSZ, and
 * `RLIMIT_AS`), from `<sys/statvfs.h>` and `<sys/resource.h>`.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const mmanSymbols = {
  shm_open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  shm_unlink: { parameters: ["buffer"], result: "i32" },
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  msync: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  posix_fallocate: { parameters: ["i32", "i64", "i64"], result: "i32" },
  fstatvfs: { parameters: ["i32", "buffer"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const mmanConstants: PerArch<Record<string, number>> = {
  common: {
    PROT_NONE: 0,
    PROT_READ: 1,
    PROT_WRITE: 2,
    MAP_SHARED: 1,
    MAP_PRIVATE: 2,
    MAP_FIXED: 0x10,
    MAP_ANONYMOUS: 0x20,
    MAP_FAILED: -1,
    MS_ASYNC: 1,
    MS_INVALIDATE: 2,
    MS_SYNC: 4,
    MFD_CLOEXEC: 1,
    MFD_ALLOW_SEALING: 2,
    F_ADD_SEALS: 1033,
    F_GET_SEALS: 1034,
    F_SEAL_SEAL: 1,
    F_SEAL_SHRINK: 2,
    F_SEAL_GROW: 4,
    F_SEAL_WRITE: 8,
    RLIMIT_FSIZE: 1,
    RLIMIT_AS: 9,
  },
};

/** Struct layouts for this area. */
export const mmanLayouts: PerArch<Record<string, Layout>> = {
  common: {
    statvfs: {
      c: "struct statvfs",
      size: 112,
      fields: { f_frsize: [8, 8], f_blocks: [16, 8], f_bavail: [32, 8] },
    },
    rlimit: { c: "struct rlimit", size: 16, fields: { rlim_cur: [0, 8], rlim_max: [8, 8] } },
  },
};

/** Headers the layout probe includes for this area. */
export const mmanHeaders: string[] = [
  "sys/mman.h",
  "fcntl.h",
  "sys/statvfs.h",
  "sys/resource.h",
];

/** The running arch's constants for this area. */
export const mman = lazyTable(mmanConstants);
/** The running arch's layouts for this area. */
export const mmanLayout = lazyTable(mmanLayouts);
