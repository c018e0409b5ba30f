/**
 * `<sys/socket.h>`: Unix domain sockets, fd passing and credentials.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const socketSymbols = {} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const socketConstants: PerArch<Record<string, number>> = { common: {} };

/** Struct layouts for this area. */
export const socketLayouts: PerArch<Record<string, Layout>> = { common: {} };

/** Headers the layout probe includes for this area. */
export const socketHeaders: string[] = ["sys/socket.h"];

/** The running arch's constants for this area. */
export const socket = lazyTable(socketConstants);
/** The running arch's layouts for this area. */
export const socketLayout = lazyTable(socketLayouts);
