/**
 * `ipckit shm create|write|read|info|rm`: POSIX shared memory from the shell.
 *
 * @module
 */
import { createSharedMemory, openSharedMemory, removeSharedMemory } from "../shm.ts";
import { statPath } from "../_stat.ts";
import { checkPosixName } from "../_posix.ts";
import { userName } from "../_host.ts";
import { type Command, EXIT, group, parse, sizeFlag, UsageError } from "./_common.ts";
import { ANY_OWNER, modeFlag, oneName, removeCommand, trustFlag } from "./_posix_common.ts";

const create: Command = {
  summary: "create a shared-memory object of --size bytes (fails if it exists)",
  run(ctx) {
    const usage = "Usage: ipckit shm create NAME --size BYTES [--mode 0600]\n\nCreates the " +
      'shared-memory object NAME ("/frames") of BYTES zeroed bytes, mode 0600 unless --mode. ' +
      "Fails if it already exists.";
    const p = parse(ctx, { size: { type: "string" }, mode: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    const size = sizeFlag(p.values.size, "size", { min: 1 });
    if (size === undefined) throw new UsageError(`--size is required`);
    createSharedMemory(name, { size, mode: modeFlag(p.values.mode, "shm_open") }).close();
    return EXIT.ok;
  },
};

const write: Command = {
  summary: "copy stdin into the object at --offset",
  async run(ctx) {
    const usage = "Usage: ipckit shm write NAME [--offset N] [--any-owner]\n\nCopies stdin " +
      "into NAME starting at byte N (default 0); fails if it does not fit.";
    const p = parse(ctx, { offset: { type: "string" }, ...ANY_OWNER }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    const offset = sizeFlag(p.values.offset, "offset") ?? 0;
    const data = await ctx.readStdin();
    using shm = openSharedMemory(name, trustFlag(p));
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
  async run(ctx) {
    const usage = "Usage: ipckit shm read NAME [--offset N] [--length N] [--any-owner]\n\n" +
      "Writes raw bytes from offset N (default 0), --length bytes (default: to the end).";
    const p = parse(ctx, {
      offset: { type: "string" },
      length: { type: "string" },
      ...ANY_OWNER,
    }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    using shm = openSharedMemory(name, { readOnly: true, ...trustFlag(p) });
    const offset = sizeFlag(p.values.offset, "offset", { max: shm.size }) ?? 0;
    const length = sizeFlag(p.values.length, "length", { max: shm.size - offset }) ??
      shm.size - offset;
    await ctx.write(shm.bytes.slice(offset, offset + length));
    return EXIT.ok;
  },
};

const info: Command = {
  summary: "show an object's size, owner and mode",
  run(ctx) {
    const usage = "Usage: ipckit shm info NAME [--json]\n\nPrints the object's size, owner and " +
      "mode; --json prints one record. Any owner's object can be inspected.";
    const p = parse(ctx, { json: { type: "boolean" } }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    // Only look: stat the file (without following a symlink) instead of
    // mapping an object anyone may have made, of any size.
    checkPosixName(name, "shm_open");
    const st = statPath(`/dev/shm${name}`, {
      syscall: "shm_open",
      object: name,
      kind: "shared memory object",
    });
    const rec = {
      name,
      size: st.size,
      owner: userName(st.uid),
      uid: st.uid,
      mode: `0${st.mode.toString(8)}`,
    };
    if (p.values.json) ctx.json(rec);
    else ctx.out(`${name}: ${rec.size} bytes, owner ${rec.owner}, mode ${rec.mode}`);
    return EXIT.ok;
  },
};

const rm = removeCommand("shm", "a shared-memory object", removeSharedMemory);

/** The `shm` command group. */
export const shmCommand: Command = group("shm", "POSIX shared memory", {
  create,
  write,
  read,
  info,
  rm,
});
