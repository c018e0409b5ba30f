/**
 * `<sys/ipc.h>`: System V message queues, semaphore sets and shared memory.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const sysvSymbols = {} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const sysvConstants: PerArch<Record<string, number>> = { common: {} };

/** Struct layouts for this area. */
export const sysvLayouts: PerArch<Record<string, Layout>> = { common: {} };

/** Headers the layout probe includes for this area. */
export const sysvHeaders: string[] = ["sys/ipc.h"];

/** The running arch's constants for this area. */
export const sysv = lazyTable(sysvConstants);
/** The running arch's layouts for this area. */
export const sysvLayout = lazyTable(sysvLayouts);
