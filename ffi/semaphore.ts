/**
 * `<semaphore.h>`: POSIX semaphores.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const semaphoreSymbols = {} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const semaphoreConstants: PerArch<Record<string, number>> = { common: {} };

/** Struct layouts for this area. */
export const semaphoreLayouts: PerArch<Record<string, Layout>> = { common: {} };

/** Headers the layout probe includes for this area. */
export const semaphoreHeaders: string[] = ["semaphore.h"];

/** The running arch's constants for this area. */
export const semaphore = lazyTable(semaphoreConstants);
/** The running arch's layouts for this area. */
export const semaphoreLayout = lazyTable(semaphoreLayouts);
