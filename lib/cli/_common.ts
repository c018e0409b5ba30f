/**
 * Shared CLI plumbing: argument parsing with `node:util` parseArgs, usage
 * errors, `--help`, JSON records, and the exit-code contract:
 * 0 ok, 1 operational error, 2 usage error, 124 timeout.
 *
 * @module
 */
import { concatBytes } from "../_bytes.ts";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { IpcError } from "../_errors.ts";

/** Exit codes every subcommand uses. */
export const EXIT = { ok: 0, error: 1, usage: 2, timeout: 124 } as const;

/** Bad command-line usage: exit code 2, one line plus a hint to `--help`. */
export class UsageError extends Error {
  override name = "UsageError";
  /** The command whose `--help` the hint names (`"ipckit mq send"`). */
  readonly command?: string;
  /** `message` is one line; `command` defaults to the handler's path. */
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/** Where a command's output goes: the real terminal, or memory in tests. */
export interface Io {
  /** Writes bytes to standard output completely. */
  stdout(data: Uint8Array): Promise<void> | void;
  /** Writes bytes to standard error completely. */
  stderr(data: Uint8Array): Promise<void> | void;
  /** Standard input. */
  stdin(): ReadableStream<Uint8Array>;
}

const encoder = new TextEncoder();

/** State shared by a run's contexts: the output queue and the deepest command. */
interface Run {
  pending: Promise<void>;
  deepest: string;
}

/**
 * What a command handler gets: its arguments, its output and input, and the
 * exit-code contract. A handler writes through the context and returns its
 * exit code, so it runs the same in a process and in an in-process test.
 *
 * @example A handler run in-process
 * ```ts
 * import { captureIo, type Command, Context } from "@ipckit/ipckit/cli";
 * const hello: Command = {
 *   summary: "greet someone",
 *   run(ctx) {
 *     ctx.out(`hello ${ctx.args[0] ?? "world"}`);
 *     return 0;
 *   },
 * };
 * const io = captureIo();
 * const ctx = new Context(["ada"], io);
 * const code = await hello.run(ctx);
 * await ctx.flush();
 * console.log(code, io.stdoutText); // 0 "hello ada\n"
 * ```
 */
export class Context {
  /** The arguments after the command's name. */
  readonly args: string[];
  /** The command path so far, for help and error text (`"ipckit mq send"`). */
  readonly path: string;
  readonly #io: Io;
  readonly #run: Run;

  /** A context for `args` writing to `io`. */
  constructor(args: string[], io: Io, path = "ipckit", run?: Run) {
    this.args = args;
    this.#io = io;
    this.path = path;
    this.#run = run ?? { pending: Promise.resolve(), deepest: path };
  }

  /** The same output for a subcommand: `args` are what follows its name. */
  sub(name: string, args: string[]): Context {
    const path = `${this.path} ${name}`;
    this.#run.deepest = path;
    return new Context(args, this.#io, path, this.#run);
  }

  /** The deepest command reached in this run, for the `--help` hint. */
  get command(): string {
    return this.#run.deepest;
  }

  /** Writes one line of text to stdout. */
  out(line: string): void {
    this.#queue(() => this.#io.stdout(encoder.encode(line + "\n")));
  }

  /** Writes one line to stderr. */
  err(line: string): void {
    this.#queue(() => this.#io.stderr(encoder.encode(line + "\n")));
  }

  /** Writes one JSON record as one line. */
  json(record: unknown): void {
    this.out(JSON.stringify(record));
  }

  /** Writes bytes to stdout, in order with the lines. */
  write(data: Uint8Array): Promise<void> {
    this.#queue(() => this.#io.stdout(data));
    return this.#run.pending;
  }

  /** Resolves once everything written so far has been written. */
  flush(): Promise<void> {
    return this.#run.pending;
  }

  #queue(write: () => Promise<void> | void): void {
    this.#run.pending = this.#run.pending.then(write);
  }

  /** Standard input as a byte stream. */
  get stdin(): ReadableStream<Uint8Array> {
    return this.#io.stdin();
  }

  /** Reads all of stdin. */
  async readStdin(): Promise<Uint8Array> {
    return new Uint8Array(await new Response(this.stdin).arrayBuffer());
  }

  /** Yields stdin line by line (without the newline). */
  async *stdinLines(): AsyncGenerator<string> {
    let buf = "";
    for await (const chunk of this.stdin.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
    if (buf) yield buf;
  }
}

async function writeAllTo(w: { write(p: Uint8Array): Promise<number> }, data: Uint8Array) {
  let at = 0;
  while (at < data.length) at += await w.write(data.subarray(at));
}

/** The process's own stdin, stdout and stderr. */
export const processIo: Io = {
  // `ipckit ls | head -1`: a reader that went away is not an error, as for
  // any shell tool (Deno ignores SIGPIPE, so the write fails with EPIPE).
  stdout: (d) =>
    writeAllTo(Deno.stdout, d).catch((e) => {
      if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    }),
  stderr: (d) => writeAllTo(Deno.stderr, d),
  stdin: () => Deno.stdin.readable,
};

/** Output kept in memory, for in-process tests. */
export interface CapturedIo extends Io {
  /** Everything written to stdout, as text. */
  readonly stdoutText: string;
  /** Everything written to stderr, as text. */
  readonly stderrText: string;
}

/**
 * An {@linkcode Io} that records output and reads `input` as stdin: how a
 * test runs a command in-process.
 *
 * @example
 * ```ts
 * import { captureIo, main } from "@ipckit/ipckit/cli";
 * const io = captureIo();
 * const code = await main(["version"], io);
 * console.log(code, io.stdoutText.startsWith("ipckit "), io.stderrText === "");
 * ```
 */
export function captureIo(input: Uint8Array | string = ""): CapturedIo {
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const text = (parts: Uint8Array[]) => new TextDecoder().decode(concatBytes(parts));
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  return {
    stdout: (d) => void out.push(d.slice()),
    stderr: (d) => void err.push(d.slice()),
    stdin: () => new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(),
    get stdoutText() {
      return text(out);
    },
    get stderrText() {
      return text(err);
    },
  };
}

/**
 * A command handler (or a group of them). Summaries are lower-case
 * fragments without a final period, the same for groups and leaves.
 */
export interface Command {
  /** One line for the parent's help. */
  summary: string;
  /** Runs with `ctx.args`, the arguments after the command's name; returns the exit code. */
  run(ctx: Context): Promise<number> | number;
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
  ctx: Context,
  options: Options,
  usage: string,
  { allowPositionals = true } = {},
): Parsed | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinValues(ctx.args, options),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(oneLine((e as Error).message));
  }
  if (parsed.values.help) {
    ctx.out(usage);
    return null;
  }
  return parsed as Parsed;
}

/**
 * `--flag VALUE` as `--flag=VALUE` for string options, so a value that starts
 * with "-" (`--timeout -1`) reaches the flag's own check and its message,
 * instead of parseArgs' "argument is ambiguous".
 */
function joinValues(args: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : undefined;
    if (name && options[name]?.type === "string" && i + 1 < args.length) {
      out.push(`${a}=${args[++i]}`);
    } else out.push(a);
  }
  return out;
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

/**
 * `--mode 0600` (octal, as chmod(1) takes it) as a number, `undefined` when
 * absent; anything else is a {@linkcode UsageError}.
 */
export function modeFlag(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const m = /^(?:0o?)?([0-7]{1,4})$/.exec(text);
  if (!m) {
    throw new UsageError(`--mode must be octal between 0000 and 7777 like 0600, got "${text}"`);
  }
  return parseInt(m[1], 8);
}

/**
 * `--timeout MS` as a number of milliseconds, `undefined` when absent (wait
 * forever); anything but a non-negative integer is a {@linkcode UsageError}.
 */
export function timeoutFlag(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(`--timeout must be a whole number of milliseconds >= 0, got "${text}"`);
  }
  return n;
}

/** `--any-owner` as the library's trust option. */
export function trustFlag(value: unknown): { trust: "owner" | "any" } {
  return { trust: value ? "any" : "owner" };
}

/** `summary` (a lower-case fragment) as a sentence: capitalised, with a final period. */
export function sentence(summary: string): string {
  const s = summary.replace(/\.$/, "");
  return s.charAt(0).toUpperCase() + s.slice(1) + ".";
}

/** Dispatches to a table of subcommands: `group NAME ...`. */
export function group(name: string, summary: string, commands: Record<string, Command>): Command {
  const usage = () =>
    `Usage: ipckit ${name} <command> [options]\n\n${sentence(summary)}\n\nCommands:\n` +
    Object.entries(commands).map(([k, c]) => `  ${k.padEnd(10)} ${c.summary}`).join("\n") +
    `\n\nRun 'ipckit ${name} <command> --help' for a command's options.`;
  return {
    summary,
    run(ctx) {
      const [sub, ...rest] = ctx.args;
      if (sub === "--help" || sub === "-h" || sub === "help") {
        ctx.out(usage());
        return EXIT.ok;
      }
      if (sub === undefined) throw new UsageError("missing command", ctx.path);
      const cmd = commands[sub];
      if (!cmd) throw new UsageError(`unknown command "${name} ${sub}"`, ctx.path);
      return cmd.run(ctx.sub(sub, rest));
    },
  };
}

/** The first line of `text` (parseArgs' messages can run to several). */
function oneLine(text: string): string {
  return text.split("\n")[0].replace(/\. To specify a positional argument.*$/, ".");
}

/** Maps a thrown error to its exit code, printing one line to stderr. */
export function exitCodeFor(e: unknown, ctx: Context): number {
  if (e instanceof UsageError) {
    ctx.err(`ipckit: ${e.message}`);
    ctx.err(`Try '${e.command ?? ctx.command} --help' for more information.`);
    return EXIT.usage;
  }
  if (e instanceof IpcError) {
    ctx.err(`ipckit: ${e.message}`);
    return e.code === "ETIMEDOUT" ? EXIT.timeout : EXIT.error;
  }
  if (e instanceof Deno.errors.NotCapable) {
    const flag = /--allow-[a-z]+/.exec(e.message)?.[0];
    ctx.err(`ipckit: ${flag ? `needs ${flag}: ` : ""}${oneLine(e.message)}`);
    return EXIT.error;
  }
  ctx.err(`ipckit: ${e instanceof Error ? e.message : String(e)}`);
  return EXIT.error;
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1 };
for (const [i, p] of ["k", "m", "g", "t"].entries()) {
  SIZE_UNITS[p] = SIZE_UNITS[`${p}ib`] = 1024 ** (i + 1);
  SIZE_UNITS[`${p}b`] = 1000 ** (i + 1);
}

/**
 * Parses a size in bytes the way util-linux (`ipcmk -M 4K`) does: a whole
 * number with an optional suffix, case-insensitive. `K`/`KiB` = 1024, `M`/`MiB`
 * = 1024², `G`/`GiB`, `T`/`TiB` likewise; the SI forms `KB`, `MB`, `GB`, `TB`
 * are powers of 1000; `B` or nothing is bytes. Every `--size`,
 * `--message-size` and similar flag goes through this one helper; anything
 * else (negative, fractional, too large, unknown suffix) is a
 * {@linkcode UsageError}.
 */
export function sizeFlag(
  value: unknown,
  flag: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const m = /^(\d+)\s*([kmgt](?:i?b)?|b)?$/i.exec(text);
  const n = m ? Number(m[1]) * SIZE_UNITS[(m[2] ?? "").toLowerCase()] : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${flag} must be a size in bytes between ${min} and ${max} (like 4096, 4K, 1MiB or ` +
        `1MB = 10^6), got "${text}"`,
    );
  }
  return n;
}
