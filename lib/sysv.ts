/**
 * System V IPC: message queues, semaphore sets and shared memory, with keys
 * from {@linkcode ftok}, `IPC_STAT`/`IPC_SET`, and listing and removal.
 *
 * @example A private semaphore set used as a lock
 * ```ts
 * import { createSysvSemaphoreSet } from "@ipckit/ipckit/sysv";
 * using set = createSysvSemaphoreSet({ count: 1, values: [1], removeOnClose: true });
 * console.log(set.count); // 1
 * ```
 *
 * @module
 */
export * from "./sysv_key.ts";
export * from "./sysv_msg.ts";
export * from "./sysv_sem.ts";
export * from "./sysv_shm.ts";
// Not the kinds table or creatorAlive(): internals of ls/rm (issue 12).
export { listSysvObjects, removeSysvObject, sysvIdForKey, type SysvKind } from "./sysv_inspect.ts";
export type { TrustOptions } from "./_trust.ts";
export { type SysvLimits, sysvLimits } from "./_sysv_limits.ts";
export { type SysvHandleOptions, SysvObject } from "./_sysv_object.ts";
export { type SysvCreateCommon, type SysvOpenOptions, type SysvTarget } from "./_sysv_open.ts";
export type { SysvPerm } from "./_sysv_perm.ts";
export { Message } from "./message.ts";
