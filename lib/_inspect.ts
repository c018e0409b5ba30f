/**
 * The record every IPC object lister returns, POSIX and System V alike, and
 * the interface a kind of object implements to be listed and removed by
 * `listIpcObjects()` and `ipckit ls` / `ipckit rm`.
 *
 * @module
 */

/** Kinds of named/keyed IPC objects that live beyond a process. */
export type IpcKind =
  | "posix-mq"
  | "posix-sem"
  | "posix-shm"
  | "sysv-msg"
  | "sysv-sem"
  | "sysv-shm"
  | "channel";

/** One IPC object on the host. */
export interface IpcObjectInfo {
  /** What it is. */
  kind: IpcKind;
  /** POSIX name with its leading slash (`"/jobs"`); absent for System V. */
  name?: string;
  /** System V key (0 is IPC_PRIVATE); absent for POSIX. */
  key?: number;
  /** System V id; absent for POSIX. */
  id?: number;
  /** Owner uid. */
  uid: number;
  /** Owner user name, or the uid as text when it has none. */
  owner: string;
  /** Permission bits, e.g. `0o600`. */
  mode: number;
  /** Bytes (shared memory, or bytes queued in a message queue). */
  size?: number;
  /** Messages queued (message queues). */
  messages?: number;
  /** Semaphores in the set (System V), or the value (POSIX). */
  semaphores?: number;
  /** Processes attached (System V shared memory). */
  attached?: number;
  /** Creator pid (System V shared memory: `shm_cpid`, lsipc's CPID). */
  creatorPid?: number;
  /** Last `shmat`/`shmdt` pid (System V shared memory: `shm_lpid`, lsipc's LPID). */
  lastPid?: number;
  /** Last `msgsnd` pid (System V queues: `msg_lspid`, lsipc's LSPID). */
  lastSendPid?: number;
  /** Last `msgrcv` pid (System V queues: `msg_lrpid`, lsipc's LRPID). */
  lastReceivePid?: number;
  /**
   * System V shared memory marked for removal (`SHM_DEST`): it goes when the
   * last process detaches (`ipcs`'s "dest" status).
   */
  dest?: boolean;
  /** System V shared memory locked in RAM (`SHM_LOCKED`, `ipcs`'s "locked" status). */
  locked?: boolean;
  /** Whether the creator process is still running (`undefined` if unknown). */
  creatorAlive?: boolean;
}

/** A kind of IPC object that can be listed and removed. */
export interface KindProvider {
  /** Lists every object of this kind visible to this process. */
  list(): IpcObjectInfo[];
  /** Removes one object: a POSIX name, or a System V id. */
  remove(nameOrId: string | number): void;
  /**
   * Why the listing may be incomplete on this host, in words a person can act
   * on (e.g. `/dev/mqueue` is not mounted), or `undefined` when it is complete.
   */
  note?(): string | undefined;
}
