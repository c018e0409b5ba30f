/**
 * The table of every kind of IPC object ipckit can list and remove, merged
 * from each family's providers: what `listIpcObjects()`, `removeIpcObject()`
 * and `ipckit ls` / `ipckit rm` dispatch on. Internal: the public surface is
 * `lib/inspect.ts`.
 *
 * @module
 */
import type { IpcKind, KindProvider } from "./_inspect.ts";
import { invalidArgument } from "./_errors.ts";
import { posixKinds } from "./posix_inspect.ts";
import { sysvKinds } from "./sysv_inspect.ts";

/** Every kind ipckit can list, merged from each family's table. */
export const kinds: Partial<Record<IpcKind, KindProvider>> = {
  ...posixKinds,
  ...sysvKinds,
};

/** The names of every listable kind, in table order. */
export function kindNames(): IpcKind[] {
  return Object.keys(kinds) as IpcKind[];
}

/** Whether `text` names a listable kind. */
export function isKind(text: string): text is IpcKind {
  return Object.hasOwn(kinds, text);
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
        String(k),
        `unknown kind; expected one of ${kindNames().join(", ")}`,
      );
    }
    return [k, p];
  });
}
