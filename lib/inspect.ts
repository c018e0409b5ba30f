/**
 * Listing and removing the host's IPC objects of every kind:
 * {@linkcode listIpcObjects} and {@linkcode removeIpcObject}, the library side
 * of `ipckit ls` and `ipckit rm`.
 *
 * @example Find leftovers of a crashed program
 * ```ts
 * import { listIpcObjects } from "@ipckit/ipckit";
 * for (const o of listIpcObjects({ kind: "posix-shm" })) {
 *   if (o.name?.startsWith("/myapp-")) console.log(o.name, o.size);
 * }
 * ```
 *
 * @module
 */
import { describe, objectOf, optionsObject } from "./_validate.ts";
import { invalidArgument } from "./_errors.ts";
import type { IpcKind, IpcObjectInfo } from "./_inspect.ts";
import { providers } from "./_kinds.ts";
import { type IpcLimit, readIpcLimits } from "./_limits.ts";

export type { IpcKind, IpcLimit, IpcObjectInfo };

/** Options for {@linkcode listIpcObjects}. */
export interface ListIpcObjectsOptions {
  /** Only these kinds (default: all). */
  kind?: IpcKind | readonly IpcKind[];
  /**
   * Only objects whose creator process is known to be gone (`creatorAlive`
   * false): leftovers of crashed programs. The kernel records a creator pid
   * for System V shared memory only.
   */
  orphans?: boolean;
}

/**
 * Lists IPC objects visible to this process: POSIX shared memory,
 * semaphores and message queues, and System V queues, semaphore sets and
 * shared memory (from `/proc/sysvipc`).
 *
 * @example
 * ```ts
 * import { listIpcObjects } from "@ipckit/ipckit";
 * console.log(listIpcObjects().length >= 0);
 * ```
 *
 * @throws {IpcError} EINVAL for an unknown kind.
 */
export function listIpcObjects(options: ListIpcObjectsOptions = {}): IpcObjectInfo[] {
  optionsObject(options, "list", "ipc objects");
  const all = providers(options.kind, "list").flatMap(([, p]) => p.list());
  return options.orphans ? all.filter((o) => o.creatorAlive === false) : all;
}

/**
 * Why listings of these kinds may be incomplete here (e.g. `/dev/mqueue`
 * not mounted), one sentence per kind.
 *
 * @example
 * ```ts
 * import { listingNotes } from "@ipckit/ipckit";
 * for (const note of listingNotes()) console.error(note);
 * ```
 */
export function listingNotes(options: ListIpcObjectsOptions = {}): string[] {
  return providers(optionsObject(options, "list", "ipc objects").kind, "list").flatMap(([k, p]) => {
    const n = p.note?.();
    return n ? [`${k}: ${n}`] : [];
  });
}

/**
 * Removes one object: a POSIX name (`"/jobs"`) or a System V id.
 *
 * @example
 * ```ts
 * import { createSharedMemory, removeIpcObject } from "@ipckit/ipckit";
 * createSharedMemory("/ipckit-doc-rmobj", { size: 1 }).close();
 * removeIpcObject("posix-shm", "/ipckit-doc-rmobj");
 * ```
 *
 * @throws {IpcError} EINVAL for an unknown kind or bad name; `NotFound`; `PermissionDenied`.
 */
export function removeIpcObject(kind: IpcKind, nameOrId: string | number): void {
  // One kind, named: not a list, and not `undefined` (which means "all" to providers()).
  if (typeof kind !== "string") {
    throw invalidArgument(
      "remove",
      objectOf(kind),
      `kind must be one kind name, got ${describe(kind)}`,
    );
  }
  providers(kind, "remove")[0][1].remove(nameOrId);
}

/**
 * The host's IPC limits, what `lsipc` prints with no options (and
 * `ipckit ls --limits`): System V `MSGMNI` ... `SEMVMX` with how much is
 * used, then the POSIX message-queue limits, each with the file it comes
 * from.
 *
 * @example
 * ```ts
 * import { listIpcLimits } from "@ipckit/ipckit";
 * const mni = listIpcLimits().find((l) => l.resource === "MSGMNI");
 * console.log(mni?.limit, mni?.used);
 * ```
 */
export function listIpcLimits(): IpcLimit[] {
  return readIpcLimits();
}
