/**
 * `ipckit sem create|post|wait|value|rm`: named POSIX semaphores from the shell.
 *
 * @module
 */
import { openSemaphore, unlinkSemaphore } from "../semaphore.ts";
import { type Command, EXIT, group, intFlag, parse } from "./_common.ts";
import { modeFlag, oneName, removeCommand } from "./_posix_common.ts";

const create: Command = {
  summary: "create a named semaphore (or keep an existing one, unless --exclusive)",
  run(ctx) {
    const usage = "Usage: ipckit sem create NAME [--value N] [--mode 0600] [--exclusive]";
    const p = parse(ctx, {
      value: { type: "string" },
      mode: { type: "string" },
      exclusive: { type: "boolean" },
    }, usage);
    if (!p) return EXIT.ok;
    openSemaphore(oneName(p, usage), {
      create: true,
      exclusive: p.values.exclusive === true,
      value: intFlag(p.values.value, "value", { max: 2147483647 }),
      mode: modeFlag(p.values.mode, "sem_open"),
    }).close();
    return EXIT.ok;
  },
};

const post: Command = {
  summary: "increment (release) a semaphore",
  run(ctx) {
    const usage = "Usage: ipckit sem post NAME";
    const p = parse(ctx, {}, usage);
    if (!p) return EXIT.ok;
    using sem = openSemaphore(oneName(p, usage));
    sem.post();
    return EXIT.ok;
  },
};

const wait: Command = {
  summary: "decrement (acquire) a semaphore, waiting while it is 0",
  async run(ctx) {
    const usage = "Usage: ipckit sem wait NAME [--timeout MS]\n\nExits 124 if the semaphore " +
      "stays 0 for MS milliseconds.";
    const p = parse(ctx, { timeout: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    using sem = openSemaphore(oneName(p, usage));
    await sem.wait({ timeout: intFlag(p.values.timeout, "timeout") });
    return EXIT.ok;
  },
};

const value: Command = {
  summary: "print a semaphore's value",
  run(ctx) {
    const usage = "Usage: ipckit sem value NAME";
    const p = parse(ctx, {}, usage);
    if (!p) return EXIT.ok;
    using sem = openSemaphore(oneName(p, usage), { trustAnyOwner: true });
    ctx.out(String(sem.value()));
    return EXIT.ok;
  },
};

const rm = removeCommand("sem", "a named semaphore", unlinkSemaphore);

/** The `sem` command group. */
export const semCommand: Command = group("sem", "Named POSIX semaphores.", {
  create,
  post,
  wait,
  value,
  rm,
});
