/**
 * `<sys/mman.h>`: POSIX shared memory, mmap and memfd.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const mmanSymbols = {} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const mmanConstants: PerArch<Record<string, number>> = { common: {} };

/** Struct layouts for this area. */
export const mmanLayouts: PerArch<Record<string, Layout>> = { common: {} };

/** Headers the layout probe includes for this area. */
export const mmanHeaders: string[] = ["sys/mman.h"];

/** The running arch's constants for this area. */
export const mman = lazyTable(mmanConstants);
/** The running arch's layouts for this area. */
export const mmanLayout = lazyTable(mmanLayouts);
