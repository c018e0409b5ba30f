/**
 * The table of every kind of IPC object ipckit can list and remove, merged
 * from each family's providers: what `listIpcObjects()`, `removeIpcObject()`
 * and `ipckit ls` / `ipckit rm` dispatch on. Internal: the public surface is
 * `lib/inspect.ts`.
 *
 * @module
 */
import { objectOf } from "./_validate.ts";
import type { IpcKind, KindProvider } from "./_inspect.ts";
import { invalidArgument } from "./_errors.ts";
import { posixKinds } from "./posix_inspect.ts";
import { sysvKinds } from "./sysv_inspect.ts";
import { channelProvider } from "./_channel_inspect.ts";

/** Channels (shared-memory rings in /dev/shm) as listing records. */
const channelKind: KindProvider = {
  list: () =>
    channelProvider.list().map((c) => ({
      kind: "channel",
      name: c.name,
      uid: c.uid,
      owner: c.owner,
      mode: c.mode,
      size: c.size,
      messages: c.messages,
      lastSendPid: c.senderPid || undefined,
      lastReceivePid: c.receiverPid || undefined,
    })),
  remove: channelProvider.remove,
};

/** Every kind ipckit can list, merged from each family's table. */
export const kinds: Partial<Record<IpcKind, KindProvider>> = {
  ...posixKinds,
  ...sysvKinds,
  channel: channelKind,
};

/** The names of every listable kind, in table order. */
export function kindNames(): IpcKind[] {
  return Object.keys(kinds) as IpcKind[];
}

/** Whether `text` names a listable kind. */
export function isKind(text: string): text is IpcKind {
  return typeof text === "string" && Object.hasOwn(kinds, text);
}

/** The providers for `kind` (default: all), or EINVAL naming the call for an unknown kind. */
export function providers(
  kind: IpcKind | readonly IpcKind[] | undefined,
  syscall: string,
): [IpcKind, KindProvider][] {
  const wanted = kind === undefined ? kindNames() : [kind].flat();
  return wanted.map((k) => {
    const p = isKind(k) ? kinds[k] : undefined;
    if (!p) {
      throw invalidArgument(
        syscall,
        objectOf(k),
        `unknown kind; expected one of ${kindNames().join(", ")}`,
      );
    }
    return [k, p];
  });
}
