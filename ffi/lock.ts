/**
 * `<sys/file.h>`: file locks: flock and fcntl record/OFD locks.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const lockSymbols = {} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const lockConstants: PerArch<Record<string, number>> = { common: {} };

/** Struct layouts for this area. */
export const lockLayouts: PerArch<Record<string, Layout>> = { common: {} };

/** Headers the layout probe includes for this area. */
export const lockHeaders: string[] = ["sys/file.h"];

/** The running arch's constants for this area. */
export const lock = lazyTable(lockConstants);
/** The running arch's layouts for this area. */
export const lockLayout = lazyTable(lockLayouts);
