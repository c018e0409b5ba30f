/**
 * `ipckit fifo make|cat|rm`: FIFOs from the shell, like `mkfifo` plus a
 * `cat` that gives up with exit code 124 when no writer comes.
 *
 * @module
 */
import { makeFifo, openFifo, removeFifo } from "../fifo.ts";
import { parseMode } from "../_validate.ts";
import { type Command, EXIT, group, intFlag, parse, UsageError } from "./_common.ts";

const make: Command = {
  summary: "create a FIFO (mode 0600 unless --mode)",
  run(ctx) {
    const usage = "Usage: ipckit fifo make PATH [--mode 0600]\n\nCreates a FIFO at PATH " +
      "with exactly the given mode (the umask does not apply).";
    const p = parse(ctx, { mode: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    if (p.positionals.length !== 1) throw new UsageError(`expected one PATH`);
    const mode = p.values.mode === undefined ? 0o600 : parseModeFlag(String(p.values.mode));
    makeFifo(p.positionals[0], { mode });
    return EXIT.ok;
  },
};

function parseModeFlag(text: string): number {
  try {
    return parseMode(text, "mkfifo");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

const cat: Command = {
  summary: "copy what writers send through a FIFO to stdout",
  async run(ctx) {
    const usage = "Usage: ipckit fifo cat PATH [--timeout MS]\n\nOpens PATH for reading, " +
      "waits for a writer, and copies to stdout until every writer has closed.\n" +
      "With --timeout, exits 124 if no writer opens within MS milliseconds.";
    const p = parse(ctx, { timeout: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    if (p.positionals.length !== 1) throw new UsageError(`expected one PATH`);
    const timeout = intFlag(p.values.timeout, "timeout");
    using fifo = await openFifo(p.positionals[0], "read", { timeout });
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
    if (p.positionals.length !== 1) throw new UsageError(`expected one PATH`);
    removeFifo(p.positionals[0]);
    return EXIT.ok;
  },
};

/** The `fifo` command group. */
export const fifoCommand: Command = group("fifo", "Named pipes (FIFOs).", { make, cat, rm });
