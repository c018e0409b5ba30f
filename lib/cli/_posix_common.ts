/**
 * Flag helpers shared by the POSIX command groups.
 *
 * @module
 */
import { parseMode } from "../_validate.ts";
import { type Command, EXIT, parse, type Parsed, UsageError } from "./_common.ts";

/** The single NAME positional, or a usage error. */
export function oneName(p: Parsed): string {
  if (p.positionals.length !== 1) throw new UsageError(`expected one NAME`);
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

/** `--any-owner`: the library's `trust: "any"`, else the default trust rule. */
export const ANY_OWNER = { "any-owner": { type: "boolean" } } as const;

/** The trust option for `--any-owner`. */
export function trustFlag(p: Parsed): { trust: "owner" | "any" } {
  return { trust: p.values["any-owner"] === true ? "any" : "owner" };
}

/** `ipckit GROUP rm NAME`: removes one object by name. */
export function removeCommand(
  group: string,
  noun: string,
  remove: (name: string) => void,
): Command {
  return {
    summary: `remove ${noun}`,
    run(ctx) {
      const usage = `Usage: ipckit ${group} rm NAME\n\nRemoves NAME. ` +
        "Processes that have it open keep using it until they close it.";
      const p = parse(ctx, {}, usage);
      if (!p) return EXIT.ok;
      remove(oneName(p));
      return EXIT.ok;
    },
  };
}
