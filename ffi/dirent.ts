/**
 * `<dirent.h>`: reading a directory (`opendir`/`readdir`/`closedir`) and the
 * `struct dirent` layout, used by `lib/_host.ts` to list `/proc` directories
 * through libc.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const direntSymbols = {
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area (none yet), checked against C by `tests/layout_test.ts`. */
export const direntConstants: PerArch<Record<string, number>> = { common: {} };

/** Struct layouts for this area. */
export const direntLayouts: PerArch<Record<string, Layout>> = {
  common: {
    dirent: {
      c: "struct dirent",
      size: 280,
      fields: { d_ino: [0, 8], d_reclen: [16, 2], d_type: [18, 1], d_name: [19, 256] },
    },
  },
};

/** Headers the layout probe includes for this area. */
export const direntHeaders: string[] = ["dirent.h"];

/** The running arch's layouts for this area. */
export const direntLayout = lazyTable(direntLayouts);
