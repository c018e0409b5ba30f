/**
 * `ipckit fifo create|cat|rm`: FIFOs from the shell, like `mkfifo` (several
 * paths, `-m MODE`) plus a `cat` that gives up with exit code 124 when no
 * writer comes, or keeps reading across writers with `--follow`.
 *
 * @module
 */
import { createFifo, openFifo, removeFifo } from "../fifo.ts";
import { IpcError } from "../errors.ts";
import {
  type Command,
  EXIT,
  exitCodeFor,
  group,
  modeFlag,
  parse,
  timeoutFlag,
  trustFlag,
  UsageError,
} from "./_common.ts";

function checkPaths(positionals: string[], max = Infinity): string[] {
  if (positionals.length === 0) throw new UsageError("expected a PATH");
  if (positionals.length > max) throw new UsageError("expected one PATH");
  for (const path of positionals) {
    if (path === "" || path.includes("\0")) throw new UsageError("PATH must be a non-empty path");
  }
  return positionals;
}

const create: Command = {
  summary: "create FIFOs, like mkfifo (mode 0600 unless -m)",
  run(ctx) {
    const usage = "Usage: ipckit fifo create PATH... [-m|--mode 0600]\n\nCreates a FIFO at each " +
      "PATH with exactly the given octal mode (the umask does not apply). A PATH where\n" +
      "anything already is (a symlink included) fails; the other PATHs are still created\n" +
      "and the exit code is 1, as with mkfifo(1).";
    const p = parse(ctx, { mode: { type: "string", short: "m" } }, usage);
    if (!p) return EXIT.ok;
    const paths = checkPaths(p.positionals);
    const mode = modeFlag(p.values.mode);
    let code: number = EXIT.ok;
    for (const path of paths) {
      try {
        createFifo(path, { mode });
      } catch (e) {
        if (!(e instanceof IpcError)) throw e;
        code = Math.max(code, exitCodeFor(e, ctx));
      }
    }
    return code;
  },
};

const cat: Command = {
  summary: "copy what writers send through a FIFO to stdout",
  async run(ctx) {
    const usage = "Usage: ipckit fifo cat PATH [--follow] [--timeout MS] [--any-owner]\n\n" +
      "Opens PATH for reading, waits for a writer, and copies to stdout until every writer\n" +
      "has closed. With --follow, it then waits for the next writer and goes on, until it\n" +
      "is stopped (like tail -f). With --timeout, exits 124 if no writer opens within MS\n" +
      "milliseconds (with --follow: within MS of the last writer leaving). A FIFO owned by\n" +
      "another user, or writable by group or others, is refused unless --any-owner is given;\n" +
      "a symlink is never followed.";
    const p = parse(
      ctx,
      {
        timeout: { type: "string" },
        "any-owner": { type: "boolean" },
        follow: { type: "boolean", short: "f" },
      },
      usage,
    );
    if (!p) return EXIT.ok;
    const [path] = checkPaths(p.positionals, 1);
    const timeout = timeoutFlag(p.values.timeout);
    const options = { timeout, ...trustFlag(p.values["any-owner"]) };
    const buf = new Uint8Array(65536);
    let fifo = await openFifo(path, "read", options);
    try {
      for (;;) {
        const n = await fifo.read(buf);
        if (n !== null) {
          await ctx.write(buf.subarray(0, n));
          continue;
        }
        if (!p.values.follow) break;
        // Every writer left. The old read end stays open until the new one
        // has a writer: what a writer sends in between goes into the pipe
        // both ends share, instead of being discarded with the last reader.
        const next = await openFifo(path, "read", options);
        fifo.close();
        fifo = next;
      }
    } finally {
      fifo.close();
    }
    return EXIT.ok;
  },
};

const rm: Command = {
  summary: "remove a FIFO (refuses anything else)",
  run(ctx) {
    const usage = "Usage: ipckit fifo rm PATH\n\nRemoves the FIFO at PATH; refuses to " +
      "remove a path that is not a FIFO.";
    const p = parse(ctx, {}, usage);
    if (!p) return EXIT.ok;
    removeFifo(checkPaths(p.positionals, 1)[0]);
    return EXIT.ok;
  },
};

/** The `fifo` command group. */
export const fifoCommand: Command = group("fifo", "named pipes (FIFOs)", { create, cat, rm });
