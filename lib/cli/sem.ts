/**
 * `ipckit sem create|post|wait|value|rm`: named POSIX semaphores from the shell.
 *
 * @module
 */
import { createSemaphore, openSemaphore, removeSemaphore } from "../semaphore.ts";
import { readSemaphoreValue } from "../_sem_file.ts";
import { checkPosixName, SEMAPHORE_NAME_MAX } from "../_posix.ts";
import { type Command, EXIT, group, intFlag, parse } from "./_common.ts";
import { ANY_OWNER, modeFlag, oneName, removeCommand, trustFlag } from "./_posix_common.ts";

const create: Command = {
  summary: "create a named semaphore (or keep an existing one, unless --exclusive)",
  run(ctx) {
    const usage = "Usage: ipckit sem create NAME [--value N] [--mode 0600] [--exclusive]\n\n" +
      'Creates the named semaphore NAME ("/slots") with value N (default 0) and mode 0600 ' +
      "unless --mode, or leaves an existing one as it is. With --exclusive, fails if it exists.";
    const p = parse(ctx, {
      value: { type: "string" },
      mode: { type: "string" },
      exclusive: { type: "boolean" },
    }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    const create = {
      value: intFlag(p.values.value, "value", { max: 2147483647 }),
      mode: modeFlag(p.values.mode, "sem_open"),
    };
    const sem = p.values.exclusive === true
      ? createSemaphore(name, create)
      : openSemaphore(name, { create });
    sem.close();
    return EXIT.ok;
  },
};

const post: Command = {
  summary: "increment (release) a semaphore",
  run(ctx) {
    const usage = "Usage: ipckit sem post NAME [--any-owner]\n\nAdds one to the semaphore, " +
      "waking one waiter. --any-owner accepts a semaphore another user owns or others may write.";
    const p = parse(ctx, { ...ANY_OWNER }, usage);
    if (!p) return EXIT.ok;
    using sem = openSemaphore(oneName(p), trustFlag(p));
    sem.post();
    return EXIT.ok;
  },
};

const wait: Command = {
  summary: "decrement (acquire) a semaphore, waiting while it is 0",
  async run(ctx) {
    const usage = "Usage: ipckit sem wait NAME [--timeout MS] [--any-owner]\n\nExits 124 if " +
      "the semaphore stays 0 for MS milliseconds.";
    const p = parse(ctx, { timeout: { type: "string" }, ...ANY_OWNER }, usage);
    if (!p) return EXIT.ok;
    using sem = openSemaphore(oneName(p), trustFlag(p));
    await sem.wait({ timeout: intFlag(p.values.timeout, "timeout") });
    return EXIT.ok;
  },
};

const value: Command = {
  summary: "print a semaphore's value",
  run(ctx) {
    const usage = "Usage: ipckit sem value NAME [--json]\n\nPrints the semaphore's current " +
      "value; --json prints one record. Any owner's semaphore can be read.";
    const p = parse(ctx, { json: { type: "boolean" } }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    // Only looks, at a semaphore anyone may have made: read the file instead
    // of mapping it (a truncated file would crash a mapping with SIGBUS).
    const v = readSemaphoreValue(checkPosixName(name, "sem_open", SEMAPHORE_NAME_MAX));
    if (p.values.json) ctx.json({ name, value: v });
    else ctx.out(String(v));
    return EXIT.ok;
  },
};

const rm = removeCommand("sem", "a named semaphore", removeSemaphore);

/** The `sem` command group. */
export const semCommand: Command = group("sem", "named POSIX semaphores", {
  create,
  post,
  wait,
  value,
  rm,
});
