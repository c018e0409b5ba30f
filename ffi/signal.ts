/**
 * `<signal.h>`: signals: kill, sigqueue, pidfd, signalfd.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const signalSymbols = {} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const signalConstants: PerArch<Record<string, number>> = { common: {} };

/** Struct layouts for this area. */
export const signalLayouts: PerArch<Record<string, Layout>> = { common: {} };

/** Headers the layout probe includes for this area. */
export const signalHeaders: string[] = ["signal.h"];

/** The running arch's constants for this area. */
export const signal = lazyTable(signalConstants);
/** The running arch's layouts for this area. */
export const signalLayout = lazyTable(signalLayouts);
