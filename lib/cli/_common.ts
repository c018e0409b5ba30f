/**
 * Shared CLI plumbing: argument parsing with `node:util` parseArgs, usage
 * errors, `--help`, JSON records, and the exit-code contract:
 * 0 ok, 1 operational error, 2 usage error, 124 timeout.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { IpcError } from "../errors.ts";

/** Exit codes every subcommand uses. */
export const EXIT = { ok: 0, error: 1, usage: 2, timeout: 124 } as const;

/** Bad command-line usage: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A subcommand (or group of subcommands). */
export interface Command {
  /** One line for the parent's help. */
  summary: string;
  /** Runs with the arguments after the subcommand's name; returns the exit code. */
  run(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flags and positionals. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses `args` against `options` (plus `--help`); prints `usage` and returns
 * `null` when `--help` is given. Unknown flags are a {@linkcode UsageError}.
 */
export function parse(
  args: string[],
  options: Options,
  usage: string,
  { allowPositionals = true } = {},
): Parsed | null {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
  if (parsed.values.help) {
    console.log(usage);
    return null;
  }
  return parsed as Parsed;
}

/** Parses a non-negative integer flag, or throws a {@linkcode UsageError}. */
export function intFlag(
  value: unknown,
  flag: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer between ${min} and ${max}, got "${text}"`);
  }
  return n;
}

/** Dispatches to a table of subcommands: `group NAME ...`. */
export function group(name: string, summary: string, commands: Record<string, Command>): Command {
  const usage = () =>
    `Usage: ipckit ${name} <command> [options]\n\n${summary}\n\nCommands:\n` +
    Object.entries(commands).map(([k, c]) => `  ${k.padEnd(10)} ${c.summary}`).join("\n") +
    `\n\nRun 'ipckit ${name} <command> --help' for a command's options.`;
  return {
    summary,
    run(args) {
      const [sub, ...rest] = args;
      if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
        if (sub === undefined) throw new UsageError(`missing command\n\n${usage()}`);
        console.log(usage());
        return Promise.resolve(EXIT.ok);
      }
      const cmd = commands[sub];
      if (!cmd) throw new UsageError(`unknown command "${name} ${sub}"\n\n${usage()}`);
      return cmd.run(rest);
    },
  };
}

/** Writes one JSON record per line to stdout. */
export function printJson(record: unknown): void {
  console.log(JSON.stringify(record));
}

/** Maps a thrown error to its exit code, printing one line to stderr. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError) {
    console.error(`ipckit: ${e.message}`);
    return EXIT.usage;
  }
  if (e instanceof IpcError) {
    console.error(`ipckit: ${e.message}`);
    return e.code === "ETIMEDOUT" ? EXIT.timeout : EXIT.error;
  }
  console.error(`ipckit: ${e instanceof Error ? e.message : String(e)}`);
  return EXIT.error;
}

/** Reads all of stdin. */
export async function readStdin(): Promise<Uint8Array> {
  return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
}

/** Yields stdin line by line (without the newline). */
export async function* stdinLines(): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (buf) yield buf;
}

/** Writes bytes to stdout completely. */
export async function writeStdout(data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await Deno.stdout.write(data.subarray(at));
}
