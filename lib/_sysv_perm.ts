/**
 * The System V families and their `ipc_perm` records: names used in errors,
 * the `*id_ds` layouts, decoding and editing of owner and mode.
 *
 * @module
 */
import { getField, type Layout, setField } from "../ffi/struct.ts";
import { sysvLayout } from "../ffi/sysv.ts";
import { invalidArgument } from "./_errors.ts";
import { checkMode } from "./_validate.ts";

/** The three System V object families. */
export type SysvFamily = "msg" | "sem" | "shm";

/** Nouns for messages, per family. */
export const familyNoun: Record<SysvFamily, string> = {
  msg: "message queue",
  sem: "semaphore set",
  shm: "shared memory segment",
};

/** The id's name in messages (`msqid 5`), as `ipcs` calls it. */
export const idName: Record<SysvFamily, string> = { msg: "msqid", sem: "semid", shm: "shmid" };

/** Permissions and ownership of a System V object (`struct ipc_perm`). */
export interface SysvPerm {
  /** The key it was created with (0 is `IPC_PRIVATE`), as an unsigned 32-bit number. */
  key: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Creator uid. */
  cuid: number;
  /** Creator gid. */
  cgid: number;
  /** Permission bits (`0o600`). */
  mode: number;
  /** Slot usage sequence number. */
  seq: number;
}

/** The `*id_ds` layout of a family. */
export function dsLayout(family: SysvFamily): Layout {
  return sysvLayout()[`${idName[family]}_ds`];
}

/** Decodes the `ipc_perm` at byte `base` of `view`. */
export function decodePerm(view: DataView, base: number): SysvPerm {
  const L = sysvLayout().ipc_perm;
  return {
    key: getField(view, L, "__key", false, base),
    uid: getField(view, L, "uid", false, base),
    gid: getField(view, L, "gid", false, base),
    cuid: getField(view, L, "cuid", false, base),
    cgid: getField(view, L, "cgid", false, base),
    mode: getField(view, L, "mode", false, base) & 0o777,
    seq: getField(view, L, "__seq", false, base),
  };
}

/** A `time_t` field as a Date, or `null` when it is 0 ("never"). */
export function timeField(view: DataView, layout: Layout, field: string): Date | null {
  const s = getField(view, layout, field, true);
  return s === 0 ? null : new Date(s * 1000);
}

/** Owned scratch buffer for `IPC_STAT` of `layout`. */
export function statBuffer(layout: Layout): [Uint8Array<ArrayBuffer>, DataView] {
  const buf = new Uint8Array(layout.size);
  return [buf, new DataView(buf.buffer)];
}

/** Writes the uid/gid/mode changes into the `ipc_perm` at `base`. */
export function setPerm(
  v: DataView,
  base: number,
  changes: { uid?: number; gid?: number; mode?: number },
  syscall: string,
  object: string,
): void {
  const P = sysvLayout().ipc_perm;
  for (const f of ["uid", "gid"] as const) {
    const x = changes[f];
    if (x === undefined) continue;
    if (!Number.isInteger(x) || x < 0 || x > 0xfffffffe) {
      throw invalidArgument(syscall, object, `${f} must be an integer id, got ${x}`);
    }
    setField(v, P, f, x, base);
  }
  if (changes.mode !== undefined) {
    const mode = checkMode(changes.mode, syscall, object);
    if (mode > 0o777) throw invalidArgument(syscall, object, "mode must be 0 to 0o777");
    const old = getField(v, P, "mode", false, base);
    setField(v, P, "mode", (old & ~0o777) | mode, base);
  }
}
