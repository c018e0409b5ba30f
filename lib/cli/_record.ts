/**
 * The one JSON record of an IPC object that every CLI command printing one
 * uses (`ls --json`, `sysv info --json`): mode as an octal string, keys as a
 * hex string and a number, lsipc's pid names. Documented in `docs/cli.md`.
 *
 * @module
 */
import type { IpcObjectInfo } from "../_inspect.ts";
import { formatSysvKey } from "../sysv_key.ts";

/** An {@linkcode IpcObjectInfo} as the CLI prints it in JSON. */
export interface ObjectRecord {
  kind: string;
  name?: string;
  key?: string;
  keyNumber?: number;
  id?: number;
  uid: number;
  owner: string;
  mode: string;
  size?: number;
  messages?: number;
  semaphores?: number;
  attached?: number;
  cpid?: number;
  lpid?: number;
  lspid?: number;
  lrpid?: number;
  dest?: boolean;
  locked?: boolean;
  creatorAlive?: boolean;
}

/** `0o600` → `"0600"`. */
export function octalMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}

/** The CLI's JSON shape of `o`: fields in a fixed order, absent ones left out. */
export function objectRecord(o: IpcObjectInfo): ObjectRecord {
  const r: ObjectRecord = { kind: o.kind } as ObjectRecord;
  const put = <K extends keyof ObjectRecord>(k: K, v: ObjectRecord[K] | undefined) => {
    if (v !== undefined) r[k] = v;
  };
  put("name", o.name);
  if (o.key !== undefined) {
    r.key = formatSysvKey(o.key);
    r.keyNumber = o.key;
  }
  put("id", o.id);
  r.uid = o.uid;
  r.owner = o.owner;
  r.mode = octalMode(o.mode);
  put("size", o.size);
  put("messages", o.messages);
  put("semaphores", o.semaphores);
  put("attached", o.attached);
  put("cpid", o.creatorPid);
  put("lpid", o.lastPid);
  put("lspid", o.lastSendPid);
  put("lrpid", o.lastReceivePid);
  put("dest", o.dest);
  put("locked", o.locked);
  put("creatorAlive", o.creatorAlive);
  return r;
}
