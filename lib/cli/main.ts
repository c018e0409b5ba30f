#!/usr/bin/env -S deno run --allow-ffi --allow-read --allow-write --allow-env --allow-run
/**
 * The `ipckit` command: Linux IPC from the shell.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-write jsr:@ipckit/ipckit/cli fifo make /tmp/f
 * ```
 *
 * Exit codes: 0 ok, 1 operational error (message on stderr), 2 usage error,
 * 124 timeout.
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import { type Command, EXIT, exitCodeFor, UsageError } from "./_common.ts";
import { fifoCommand } from "./fifo.ts";
import { sockCommand } from "./sock.ts";
import { lockCommand } from "./lock.ts";
import { cliOwnsProcess, signalCommand } from "./signal.ts";
import { sysvCommand } from "./sysv.ts";
import { mqCommand } from "./mq.ts";
import { semCommand } from "./sem.ts";
import { shmCommand } from "./shm.ts";
import { lsCommand, rmCommand } from "./ls.ts";

const version: Command = {
  summary: "print ipckit's version",
  run(args) {
    if (args.includes("--help") || args.includes("-h")) {
      console.log("Usage: ipckit version [--json]");
      return Promise.resolve(EXIT.ok);
    }
    const info = { ipckit: denoJson.version, deno: Deno.version.deno, target: Deno.build.target };
    if (args.includes("--json")) console.log(JSON.stringify(info));
    else console.log(`ipckit ${info.ipckit} (deno ${info.deno}, ${info.target})`);
    return Promise.resolve(EXIT.ok);
  },
};

export type { Command };

/** Every top-level subcommand, by name. */
export const commands: Record<string, Command> = {
  fifo: fifoCommand,
  sock: sockCommand,
  lock: lockCommand,
  signal: signalCommand,
  sysv: sysvCommand,
  mq: mqCommand,
  sem: semCommand,
  shm: shmCommand,
  ls: lsCommand,
  rm: rmCommand,
  version,
};

function usage(): string {
  return "Usage: ipckit <command> [options]\n\nLinux IPC from the shell.\n\nCommands:\n" +
    Object.entries(commands).map(([k, c]) => `  ${k.padEnd(10)} ${c.summary}`).join("\n") +
    "\n\nRun 'ipckit <command> --help' for more. Exit codes: 0 ok, 1 error, 2 usage, 124 timeout.";
}

/**
 * Runs the CLI with `args` and returns the exit code (it does not exit).
 *
 * @example
 * ```ts
 * import { main } from "@ipckit/ipckit/cli";
 * const code = await main(["version"]);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  try {
    if (name === undefined) throw new UsageError(`missing command\n\n${usage()}`);
    if (name === "--help" || name === "-h" || name === "help") {
      console.log(usage());
      return EXIT.ok;
    }
    if (name === "--version") return await version.run([]);
    const cmd = commands[name];
    if (!cmd) throw new UsageError(`unknown command "${name}"\n\n${usage()}`);
    return await cmd.run(rest);
  } catch (e) {
    return exitCodeFor(e);
  }
}

if (import.meta.main) {
  cliOwnsProcess();
  Deno.exit(await main(Deno.args));
}
