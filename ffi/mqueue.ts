/**
 * `<mqueue.h>`: POSIX message queues.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const mqueueSymbols = {} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const mqueueConstants: PerArch<Record<string, number>> = { common: {} };

/** Struct layouts for this area. */
export const mqueueLayouts: PerArch<Record<string, Layout>> = { common: {} };

/** Headers the layout probe includes for this area. */
export const mqueueHeaders: string[] = ["mqueue.h"];

/** The running arch's constants for this area. */
export const mqueue = lazyTable(mqueueConstants);
/** The running arch's layouts for this area. */
export const mqueueLayout = lazyTable(mqueueLayouts);
