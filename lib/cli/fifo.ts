/**
 * `ipckit fifo create|cat|rm`: FIFOs from the shell, like `mkfifo` plus a
 * `cat` that gives up with exit code 124 when no writer comes.
 *
 * @module
 */
import { createFifo, openFifo, removeFifo } from "../fifo.ts";
import {
  type Command,
  EXIT,
  group,
  modeFlag,
  parse,
  timeoutFlag,
  trustFlag,
  UsageError,
} from "./_common.ts";

function onePath(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError("expected one PATH");
  const [path] = positionals;
  if (path === "" || path.includes("\0")) throw new UsageError("PATH must be a non-empty path");
  return path;
}

const create: Command = {
  summary: "create a FIFO (mode 0600 unless --mode)",
  run(ctx) {
    const usage = "Usage: ipckit fifo create PATH [--mode 0600]\n\nCreates a FIFO at PATH " +
      "with exactly the given mode (the umask does not apply). Fails if anything is at PATH.";
    const p = parse(ctx, { mode: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    const path = onePath(p.positionals);
    createFifo(path, { mode: modeFlag(p.values.mode) });
    return EXIT.ok;
  },
};

const cat: Command = {
  summary: "copy what writers send through a FIFO to stdout",
  async run(ctx) {
    const usage = "Usage: ipckit fifo cat PATH [--timeout MS] [--any-owner]\n\n" +
      "Opens PATH for reading, waits for a writer, and copies to stdout until every writer\n" +
      "has closed. With --timeout, exits 124 if no writer opens within MS milliseconds.\n" +
      "A FIFO owned by another user, or writable by group or others, is refused unless\n" +
      "--any-owner is given.";
    const p = parse(
      ctx,
      { timeout: { type: "string" }, "any-owner": { type: "boolean" } },
      usage,
    );
    if (!p) return EXIT.ok;
    const path = onePath(p.positionals);
    const timeout = timeoutFlag(p.values.timeout);
    using fifo = await openFifo(path, "read", { timeout, ...trustFlag(p.values["any-owner"]) });
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await fifo.read(buf);
      if (n === null) break;
      await ctx.write(buf.subarray(0, n));
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
    removeFifo(onePath(p.positionals));
    return EXIT.ok;
  },
};

/** The `fifo` command group. */
export const fifoCommand: Command = group("fifo", "named pipes (FIFOs)", { create, cat, rm });
