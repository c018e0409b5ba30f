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
  async run(args) {
    const usage = "Usage: ipckit sem create NAME [--value N] [--mode 0600] [--exclusive]";
    const p = parse(args, {
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
    return await Promise.resolve(EXIT.ok);
  },
};

const post: Command = {
  summary: "increment (release) a semaphore",
  async run(args) {
    const usage = "Usage: ipckit sem post NAME";
    const p = parse(args, {}, usage);
    if (!p) return EXIT.ok;
    using sem = openSemaphore(oneName(p, usage));
    sem.post();
    return await Promise.resolve(EXIT.ok);
  },
};

const wait: Command = {
  summary: "decrement (acquire) a semaphore, waiting while it is 0",
  async run(args) {
    const usage = "Usage: ipckit sem wait NAME [--timeout MS]\n\nExits 124 if the semaphore " +
      "stays 0 for MS milliseconds.";
    const p = parse(args, { timeout: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    using sem = openSemaphore(oneName(p, usage));
    await sem.wait({ timeout: intFlag(p.values.timeout, "timeout") });
    return EXIT.ok;
  },
};

const value: Command = {
  summary: "print a semaphore's value",
  async run(args) {
    const usage = "Usage: ipckit sem value NAME";
    const p = parse(args, {}, usage);
    if (!p) return EXIT.ok;
    using sem = openSemaphore(oneName(p, usage), { trustAnyOwner: true });
    console.log(sem.value());
    return await Promise.resolve(EXIT.ok);
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
