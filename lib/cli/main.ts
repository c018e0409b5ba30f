#!/usr/bin/env -S deno run --allow-ffi --allow-read --allow-write --allow-env --allow-run
/**
 * The `ipckit` command: Linux IPC from the shell.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-write jsr:@ipckit/ipckit/cli fifo create /tmp/f
 * ```
 *
 * Exit codes: 0 ok, 1 failure at run time (one line on stderr), 2 anything
 * wrong with the command line (one line plus a hint to `--help`), 124 timeout.
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import {
  type CapturedIo,
  captureIo,
  type Command,
  Context,
  EXIT,
  exitCodeFor,
  type Io,
  parse,
  processIo,
  UsageError,
} from "./_common.ts";
import { fifoCommand } from "./fifo.ts";
import { sockCommand } from "./sock.ts";
import { notifyCommand } from "./notify.ts";
import { lockCommand } from "./lock.ts";
import { killCommand } from "./kill.ts";
import { cliOwnsProcess, signalCommand } from "./signal.ts";
import { sysvCommand } from "./sysv.ts";
import { mqCommand } from "./mq.ts";
import { semCommand } from "./sem.ts";
import { shmCommand } from "./shm.ts";
import { lsCommand } from "./ls.ts";
import { rmCommand } from "./rm.ts";
import { channelCommand } from "./channel.ts";

const version: Command = {
  summary: "print ipckit's version",
  run(ctx) {
    const usage = "Usage: ipckit version [--json]\n\nPrints ipckit's version, the Deno version " +
      "and the target it runs on; --json prints them as one record.";
    const p = parse(ctx, { json: { type: "boolean" } }, usage, { allowPositionals: false });
    if (!p) return EXIT.ok;
    const info = { ipckit: denoJson.version, deno: Deno.version.deno, target: Deno.build.target };
    if (p.values.json) ctx.json(info);
    else ctx.out(`ipckit ${info.ipckit} (deno ${info.deno}, ${info.target})`);
    return EXIT.ok;
  },
};

export { type CapturedIo, captureIo, type Command, Context, type Io };

/** Every top-level subcommand, by name. */
export const commands: Record<string, Command> = {
  fifo: fifoCommand,
  sock: sockCommand,
  notify: notifyCommand,
  lock: lockCommand,
  signal: signalCommand,
  kill: killCommand,
  sysv: sysvCommand,
  mq: mqCommand,
  sem: semCommand,
  shm: shmCommand,
  channel: channelCommand,
  ls: lsCommand,
  rm: rmCommand,
  version,
};

function usage(): string {
  return "Usage: ipckit <command> [options]\n\nLinux IPC from the shell.\n\nCommands:\n" +
    Object.entries(commands).map(([k, c]) => `  ${k.padEnd(10)} ${c.summary}`).join("\n") +
    "\n\nRun 'ipckit <command> --help' for a command's options. Exit codes: 0 ok, 1 failure" +
    "\nat run time, 2 anything wrong with the command line, 124 timeout.";
}

/**
 * Runs the CLI with `args` and returns the exit code (it does not exit).
 * Output goes to `io` (default: this process's stdin, stdout and stderr);
 * pass {@linkcode captureIo}`()` to run a command in-process and read what it
 * printed.
 *
 * @example
 * ```ts
 * import { captureIo, main } from "@ipckit/ipckit/cli";
 * const io = captureIo();
 * const code = await main(["version", "--json"], io);
 * console.log(code, JSON.parse(io.stdoutText).ipckit);
 * ```
 */
export async function main(args: string[], io: Io = processIo): Promise<number> {
  // `deno task ipc -- ls` passes the "--" through: it is not a command.
  const [name, ...rest] = args[0] === "--" ? args.slice(1) : args;
  const ctx = new Context(rest, io);
  let code: number;
  try {
    if (name === undefined) throw new UsageError("missing command");
    if (name === "--help" || name === "-h" || name === "help") {
      ctx.out(usage());
      code = EXIT.ok;
    } else if (name === "--version") {
      code = await version.run(ctx.sub("version", []));
    } else {
      const cmd = commands[name];
      if (!cmd) throw new UsageError(`unknown command "${name}"`);
      code = await cmd.run(ctx.sub(name, rest));
    }
  } catch (e) {
    code = exitCodeFor(e, ctx);
  }
  await ctx.flush();
  return code;
}

if (import.meta.main) {
  cliOwnsProcess();
  Deno.exit(await main(Deno.args));
}
