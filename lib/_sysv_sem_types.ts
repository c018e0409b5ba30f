/**
 * The public shapes of System V semaphore sets: operations, options and
 * what `IPC_STAT` reports. Re-exported by `lib/sysv_sem.ts`.
 *
 * @module
 */
import { getField, off } from "../ffi/struct.ts";
import type { SysvCreateCommon } from "./_sysv_open.ts";
import { decodePerm, dsLayout, type SysvPerm, timeField } from "./_sysv_perm.ts";

/**
 * Largest value a System V semaphore can hold (`SEMVMX` in the kernel's
 * `<linux/sem.h>`; glibc's headers do not define it, so it is fixed here and
 * tested against the kernel's ERANGE).
 */
export const SEMVMX = 32767;

/** One operation of a `SysvSemaphoreSet.op` call. */
export interface SysvSemOp {
  /** Which semaphore of the set (0-based). */
  index: number;
  /**
   * `> 0` adds; `< 0` waits until the value is at least `-delta` and
   * subtracts it; `0` waits until the value is zero.
   */
  delta: number;
  /**
   * `SEM_UNDO`: the kernel reverts this change when the process exits. Default
   * `false` for `SysvSemaphoreSet.op`, `true` for `wait`/`post`.
   */
  undo?: boolean;
}

/** Options for `SysvSemaphoreSet.wait`, `tryWait` and `post`. */
export interface SysvSemUnitOptions {
  /** How much to take or give back. Default `1`. */
  count?: number;
  /** `SEM_UNDO` (default `true`): use the same setting for the wait and its post. */
  undo?: boolean;
}

/** What `IPC_STAT` reports about a set. */
export interface SysvSemStat {
  /** Owner, creator and permissions. */
  perm: SysvPerm;
  /** Last successful `semop`, or `null` (never: possibly not initialised yet). */
  opTime: Date | null;
  /** Creation or last `IPC_SET`/`SETVAL`/`SETALL`. */
  changeTime: Date | null;
  /** Semaphores in the set. */
  count: number;
}

/** Changes for `SysvSemaphoreSet.set` (`IPC_SET`). */
export interface SysvSemSetOptions {
  /** New owner uid. */
  uid?: number;
  /** New owner gid. */
  gid?: number;
  /** New permission bits (0 to 0o777). */
  mode?: number;
}

/** Options for `createSysvSemaphoreSet`. */
export interface CreateSysvSemaphoreSetOptions extends SysvCreateCommon {
  /** Number of semaphores (1 to SEMMSL). Default `values.length`, or 1. */
  count?: number;
  /** Initial values (0 to {@linkcode SEMVMX}); default all 0. */
  values?: number[];
}

/** Decodes a `semid_ds`. */
export function decodeSemid(v: DataView): SysvSemStat {
  const L = dsLayout("sem");
  return {
    perm: decodePerm(v, off(L, "sem_perm")),
    opTime: timeField(v, L, "sem_otime"),
    changeTime: timeField(v, L, "sem_ctime"),
    count: getField(v, L, "sem_nsems"),
  };
}
