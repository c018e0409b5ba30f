/**
 * Flag helpers shared by the POSIX command groups.
 *
 * @module
 */
import { parseMode } from "../_validate.ts";
import { type Parsed, UsageError } from "./_common.ts";

/** The single NAME positional, or a usage error. */
export function oneName(p: Parsed, usage: string): string {
  if (p.positionals.length !== 1) throw new UsageError(`expected one NAME\n\n${usage}`);
  return p.positionals[0];
}

/** `--mode 0600` as a number, or `undefined` when absent. */
export function modeFlag(value: unknown, syscall: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseMode(String(value), syscall);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
