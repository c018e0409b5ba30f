/**
 * Listing and removing every System V object on the host, as
 * {@linkcode IpcObjectInfo} records: {@linkcode sysvKinds} plugs the three
 * System V kinds into the table behind `listIpcObjects()` and
 * `ipckit ls`/`ipckit rm`.
 *
 * Records come from `/proc/sysvipc/{msg,sem,shm}` (what `ipcs` and `lsipc`
 * read too; needs `--allow-read`), owner names from `/etc/passwd`.
 *
 * Whether the creator is alive: the kernel records a creator pid for shared
 * memory only. A segment's creator counts as alive while `/proc/<cpid>`
 * exists, is not a zombie, and started no later than the segment's change
 * time (a younger process is a recycled pid). Message queues and semaphore
 * sets carry no creator pid, so `creatorAlive` is `undefined` (unknown) for
 * them, and `--orphans` never lists them: the last sender/receiver of a queue
 * says nothing about who made it.
 *
 * @example Segments whose creator is gone
 * ```ts
 * import { listIpcObjects } from "@ipckit/ipckit";
 * const orphans = listIpcObjects({ kind: "sysv-shm" })
 *   .filter((o) => o.creatorAlive === false);
 * console.log(orphans.map((o) => o.id));
 * ```
 *
 * @module
 */
import { readProcText, userName } from "./_host.ts";
import { libc } from "../ffi/libc.ts";
import { sysv } from "../ffi/sysv.ts";
import { invalidArgument, type IpcError, ipcError, sys } from "./_errors.ts";
import type { IpcObjectInfo, KindProvider } from "./_inspect.ts";
import { checkId, shown } from "./_sysv_key.ts";
import { idForKey } from "./_sysv_open.ts";
import { familyNoun, idName, type SysvFamily } from "./_sysv_perm.ts";

/** The System V kinds of {@linkcode IpcObjectInfo}. */
export type SysvKind = "sysv-msg" | "sysv-sem" | "sysv-shm";

const familyOf: Record<SysvKind, SysvFamily> = {
  "sysv-msg": "msg",
  "sysv-sem": "sem",
  "sysv-shm": "shm",
};

/** Rows of a `/proc/sysvipc` table as column-name records. */
function readTable(family: SysvFamily): Record<string, string>[] {
  // Through libc (lib/_host.ts): Deno asks for --allow-all to read /proc/sysvipc.
  const text = readProcText(`/proc/sysvipc/${family}`);
  if (text === null) return []; // kernel without System V IPC
  const [head, ...lines] = text.split("\n");
  const cols = head.trim().split(/\s+/);
  return lines.filter((l) => l.trim()).map((l) => {
    const vals = l.trim().split(/\s+/);
    return Object.fromEntries(cols.map((c, i) => [c, vals[i] ?? ""]));
  });
}

let bootTime: number | undefined;
let ticks = 100;

function processStart(pid: number): { zombie: boolean; start: number } | null {
  let stat: string | null;
  try {
    stat = readProcText(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  if (stat === null) return null;
  if (bootTime === undefined) {
    const m = /^btime (\d+)$/m.exec(readProcText("/proc/stat") ?? "");
    bootTime = m ? Number(m[1]) : 0;
    ticks = 100; // USER_HZ is 100 on every Linux ABI ipckit supports
  }
  // Fields after the parenthesised command name (which may contain spaces).
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { zombie: rest[0] === "Z", start: bootTime + Number(rest[19]) / ticks };
}

/**
 * Whether `pid` is a live process that could have created an object changed
 * at `ctime` (seconds): `undefined` for pid 0 (not recorded).
 */
function creatorAlive(pid: number, ctime: number): boolean | undefined {
  if (!(pid > 0)) return undefined;
  const p = processStart(pid);
  if (p === null || p.zombie) return false;
  // A process started after the object was created is a recycled pid.
  return p.start <= ctime + 2;
}

const SHM_DEST = 0o1000;
const SHM_LOCKED = 0o2000;

function toInfo(
  kind: SysvKind,
  row: Record<string, string>,
): IpcObjectInfo {
  const n = (c: string) => Number(row[c]);
  const uid = n("uid");
  const perms = parseInt(row.perms, 8);
  const base: IpcObjectInfo = {
    kind,
    key: n("key") >>> 0,
    id: n(`${idName[familyOf[kind]]}`),
    uid,
    owner: userName(uid),
    mode: perms & 0o777,
  };
  const pid = (field: string, c: string) => n(c) > 0 ? { [field]: n(c) } : {};
  switch (kind) {
    case "sysv-msg":
      return {
        ...base,
        size: n("cbytes"),
        messages: n("qnum"),
        ...pid("lastSendPid", "lspid"),
        ...pid("lastReceivePid", "lrpid"),
      };
    case "sysv-sem":
      return { ...base, semaphores: n("nsems") };
    case "sysv-shm": {
      const alive = creatorAlive(n("cpid"), n("ctime"));
      return {
        ...base,
        size: n("size"),
        attached: n("nattch"),
        ...pid("creatorPid", "cpid"),
        ...pid("lastPid", "lpid"),
        // The mode column carries the segment's status bits, as ipcs reads them.
        dest: (perms & SHM_DEST) !== 0,
        locked: (perms & SHM_LOCKED) !== 0,
        ...(alive === undefined ? {} : { creatorAlive: alive }),
      };
    }
  }
}

/** The family of a kind name; `undefined` for anything else (`"toString"`, an object...). */
function familyFor(kind: unknown): SysvFamily | undefined {
  return typeof kind === "string" && Object.hasOwn(familyOf, kind)
    ? familyOf[kind as SysvKind]
    : undefined;
}

/**
 * Every object of one System V kind on the host (visible in this IPC
 * namespace), in id order.
 *
 * @example
 * ```ts
 * import { listSysvObjects } from "@ipckit/ipckit";
 * for (const o of listSysvObjects("sysv-sem")) console.log(o.id, o.owner, o.semaphores);
 * ```
 */
export function listSysvObjects(kind: SysvKind): IpcObjectInfo[] {
  if (!familyFor(kind)) {
    throw invalidArgument("list", shown(kind), "kind must be sysv-msg, sysv-sem or sysv-shm");
  }
  return readTable(familyOf[kind]).map((r) => toInfo(kind, r)).sort((a, b) => a.id! - b.id!);
}

function rmid(family: SysvFamily, id: number): number {
  const C = sysv();
  const lib = libc();
  switch (family) {
    case "msg":
      return lib.msgctl(id, C.IPC_RMID, null);
    case "sem":
      return lib.semctl(id, 0, C.IPC_RMID, 0n);
    case "shm":
      return lib.shmctl(id, C.IPC_RMID, null);
  }
}

/**
 * Removes one System V object by id (`IPC_RMID`, what `ipcrm -q/-s/-m ID`
 * does). Shared memory goes once the last process detaches.
 *
 * @example
 * ```ts
 * import { createSysvSemaphoreSet, removeSysvObject } from "@ipckit/ipckit";
 * const sem = createSysvSemaphoreSet();
 * removeSysvObject("sysv-sem", sem.id);
 * sem.close();
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT) if there is no such id;
 * `PermissionDenied` (EPERM) if this user neither owns nor created it.
 */
export function removeSysvObject(kind: SysvKind, id: number | string): void {
  const family = familyFor(kind);
  const syscall = `${family ?? "sysv"}ctl(IPC_RMID)`;
  if (!family) {
    throw invalidArgument(syscall, shown(kind), "kind must be sysv-msg, sysv-sem or sysv-shm");
  }
  const n = typeof id === "string" && /^\d+$/.test(id) ? Number(id) : id;
  const checked = checkId(n, syscall);
  const object = `${idName[family]} ${checked}`;
  try {
    sys(() => rmid(family, checked), syscall, object, { kind: familyNoun[family] });
  } catch (e) {
    const code = (e as IpcError).code;
    // EINVAL: no object has this id (any more).
    if (code !== "EINVAL" && code !== "EIDRM") throw e;
    throw ipcError({ code: "ENOENT", syscall, object, kind: familyNoun[family] });
  }
}

/**
 * The id of the object of `kind` with `key` (what `ipcrm -Q/-S/-M KEY`
 * resolves).
 *
 * @example
 * ```ts
 * import { createSysvMessageQueue, sysvIdForKey } from "@ipckit/ipckit";
 * using q = createSysvMessageQueue({ key: "random", removeOnClose: true });
 * console.log(sysvIdForKey("sysv-msg", q.key) === q.id); // true
 * ```
 *
 * @throws {IpcError} `NotFound` (ENOENT) if no object has that key; EINVAL
 * for key 0 (`IPC_PRIVATE` names no object).
 */
export function sysvIdForKey(kind: SysvKind, key: number): number {
  const family = familyFor(kind);
  if (!family) {
    throw invalidArgument("get", shown(kind), "kind must be sysv-msg, sysv-sem or sysv-shm");
  }
  const lib = libc();
  const get = family === "msg"
    ? (k: number, f: number) => lib.msgget(k, f)
    : family === "sem"
    ? (k: number, f: number) => lib.semget(k, 0, f)
    : (k: number, f: number) => lib.shmget(k, 0n, f);
  return idForKey(family, `${family}get`, key, get);
}

function provider(kind: SysvKind): KindProvider {
  return {
    list: () => listSysvObjects(kind),
    remove: (nameOrId) => removeSysvObject(kind, nameOrId),
  };
}

/**
 * The System V kinds for the `Record<IpcKind, KindProvider>` table behind
 * `listIpcObjects()` and `ipckit ls`/`rm`: `list()` reads `/proc/sysvipc`,
 * `remove(id)` is `IPC_RMID` by id.
 *
 * @example
 * ```ts
 * import { sysvKinds } from "./sysv_inspect.ts"; // internal: not in the public surface
 * const all = Object.values(sysvKinds).flatMap((k) => k.list());
 * ```
 */
export const sysvKinds: Record<SysvKind, KindProvider> = {
  "sysv-msg": provider("sysv-msg"),
  "sysv-sem": provider("sysv-sem"),
  "sysv-shm": provider("sysv-shm"),
};
