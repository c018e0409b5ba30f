/**
 * `ipckit shm create|write|read|info|rm`: POSIX shared memory from the shell.
 *
 * @module
 */
import { createSharedMemory, openSharedMemory, unlinkSharedMemory } from "../shm.ts";
import { statFd } from "../_stat.ts";
import { ownerName } from "../posix_inspect.ts";
import {
  type Command,
  EXIT,
  group,
  intFlag,
  parse,
  printJson,
  readStdin,
  UsageError,
  writeStdout,
} from "./_common.ts";
import { modeFlag, oneName, removeCommand } from "./_posix_common.ts";

const create: Command = {
  summary: "create a shared-memory object of --size bytes (fails if it exists)",
  async run(args) {
    const usage = "Usage: ipckit shm create NAME --size BYTES [--mode 0600]";
    const p = parse(args, { size: { type: "string" }, mode: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p, usage);
    const size = intFlag(p.values.size, "size", { min: 1 });
    if (size === undefined) throw new UsageError(`--size is required\n\n${usage}`);
    createSharedMemory(name, { size, mode: modeFlag(p.values.mode, "shm_open") }).close();
    return await Promise.resolve(EXIT.ok);
  },
};

const write: Command = {
  summary: "copy stdin into the object at --offset",
  async run(args) {
    const usage = "Usage: ipckit shm write NAME [--offset N]\n\nCopies stdin into NAME " +
      "starting at byte N (default 0); fails if it does not fit.";
    const p = parse(args, { offset: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p, usage);
    const offset = intFlag(p.values.offset, "offset") ?? 0;
    const data = await readStdin();
    using shm = openSharedMemory(name);
    if (offset + data.length > shm.size) {
      throw new UsageError(
        `${data.length} bytes at offset ${offset} do not fit ${name} (${shm.size} bytes)`,
      );
    }
    shm.bytes.set(data, offset);
    return EXIT.ok;
  },
};

const read: Command = {
  summary: "copy bytes of the object to stdout",
  async run(args) {
    const usage = "Usage: ipckit shm read NAME [--offset N] [--length N]\n\nWrites raw bytes " +
      "from offset N (default 0), --length bytes (default: to the end).";
    const p = parse(args, { offset: { type: "string" }, length: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p, usage);
    using shm = openSharedMemory(name, { readOnly: true });
    const offset = intFlag(p.values.offset, "offset", { max: shm.size }) ?? 0;
    const length = intFlag(p.values.length, "length", { max: shm.size - offset }) ??
      shm.size - offset;
    await writeStdout(shm.bytes.slice(offset, offset + length));
    return EXIT.ok;
  },
};

const info: Command = {
  summary: "show an object's size, owner and mode",
  async run(args) {
    const usage = "Usage: ipckit shm info NAME [--json]";
    const p = parse(args, { json: { type: "boolean" } }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p, usage);
    using shm = openSharedMemory(name, { readOnly: true, trustAnyOwner: true });
    const st = statFd(shm.handle.fd, name);
    const rec = {
      name,
      size: st.size,
      owner: ownerName(st.uid),
      uid: st.uid,
      mode: `0${st.mode.toString(8)}`,
    };
    if (p.values.json) printJson(rec);
    else console.log(`${name}: ${rec.size} bytes, owner ${rec.owner}, mode ${rec.mode}`);
    return await Promise.resolve(EXIT.ok);
  },
};

const rm = removeCommand("shm", "a shared-memory object", unlinkSharedMemory);

/** The `shm` command group. */
export const shmCommand: Command = group("shm", "POSIX shared memory.", {
  create,
  write,
  read,
  info,
  rm,
});
