/**
 * The create and open flows shared by the three System V families: options,
 * exclusive creation (`IPC_CREAT|IPC_EXCL`, random keys), key to id, and
 * open-or-create.
 *
 * @module
 */
import { sysv } from "../ffi/sysv.ts";
import { invalidArgument, type IpcError, ipcError, sys, trySys } from "./_errors.ts";
import type { TrustOptions } from "./_trust.ts";
import { checkFlag, checkMode, optionsObject } from "./_validate.ts";
import { checkId, checkKey, creationObject, formatKey, randomKey, shown } from "./_sysv_key.ts";
import { familyNoun, type SysvFamily } from "./_sysv_perm.ts";

/** Which existing object to open: by key, or by id. */
export type SysvTarget = { key: number; id?: undefined } | { id: number; key?: undefined };

/** Options shared by every `createSysv...()` function. */
export interface SysvCreateCommon {
  /**
   * The key: `0` (`IPC_PRIVATE`, the default) makes an object only its id
   * reaches; `"random"` picks an unused random key; a number is used as is
   * (creation fails with `AlreadyExists` if the key is taken; -1, ftok's
   * failure value, is EINVAL). See {@linkcode ftok} for keys derived from a
   * path.
   */
  key?: number | "random";
  /** Permission bits, applied exactly (the umask does not apply). Default `0o600`. */
  mode?: number;
  /** `close()` (and `using`) also removes the object. Default `false`. */
  removeOnClose?: boolean;
}

/**
 * Options shared by every `openSysv...()` function: the target, the trust
 * options, and `create` for open-or-create (by key only).
 */
export type SysvOpenOptions<C = Omit<SysvCreateCommon, "key" | "removeOnClose">> =
  & SysvTarget
  & TrustOptions
  & {
    /** `close()` (and `using`) also removes the object. Default `false`. */
    removeOnClose?: boolean;
    /**
     * Create the object with these options if no object has `key` (open or
     * create). Only with `key`.
     */
    create?: C;
  };

/** A family's `*get(key, flags)`. */
export type Getter = (key: number, flags: number) => number;

/**
 * The options of a create*: an object (or omitted: `{}`) whose
 * `removeOnClose` is a boolean, checked before the object exists (a create
 * that throws after `*get` would leave it behind).
 */
export function createOptions<T extends { removeOnClose?: boolean }>(
  options: T | undefined,
  syscall: string,
): T & { removeOnClose: boolean } {
  const o = optionsObject(options, syscall, "IPC_PRIVATE");
  const what = creationObject((o as { key?: unknown }).key);
  return { ...o, removeOnClose: checkFlag(o.removeOnClose, "removeOnClose", syscall, what) };
}

/**
 * Creates with `IPC_CREAT|IPC_EXCL|mode` through `get(key, flags)`, retrying
 * another random key on EEXIST for `key: "random"`. Returns `[id, key]`.
 */
export function createWith(
  family: SysvFamily,
  syscall: string,
  options: SysvCreateCommon,
  get: Getter,
  ctx: { limit?: string } = {},
): [number, number] {
  const C = sysv();
  const what = creationObject(options.key);
  const mode = checkMode(options.mode === undefined ? 0o600 : options.mode, syscall, what);
  if (mode > 0o777) {
    throw invalidArgument(syscall, what, "System V modes are permission bits (0 to 0o777)");
  }
  const random = options.key === "random";
  const fixed = random
    ? 0
    : checkKey(options.key === undefined ? C.IPC_PRIVATE : options.key, syscall);
  for (let tries = 0;; tries++) {
    const key = random ? randomKey() | 0 : fixed;
    const object = key === C.IPC_PRIVATE ? "IPC_PRIVATE" : `key ${formatKey(key)}`;
    try {
      const id = trySys(
        () => get(key, C.IPC_CREAT | C.IPC_EXCL | mode),
        syscall,
        object,
        { kind: familyNoun[family], limit: ctx.limit },
        random && tries < 16 ? ["EEXIST"] : [],
      );
      if (id !== null) return [id, key >>> 0];
    } catch (e) {
      if ((e as IpcError).code !== "ENOSPC") throw e;
      throw ipcError({
        code: "ENOSPC",
        syscall,
        object,
        kind: familyNoun[family],
        limit: `kernel.${family}mni`,
      });
    }
  }
}

/** Resolves `key` to an id through `get(key, 0)`. */
export function idForKey(family: SysvFamily, syscall: string, key: unknown, get: Getter): number {
  const k = checkKey(key, syscall);
  if (k === sysv().IPC_PRIVATE) {
    throw invalidArgument(
      syscall,
      "IPC_PRIVATE",
      "key 0 (IPC_PRIVATE) names no existing object; open it by id",
    );
  }
  return sys(() => get(k, 0), syscall, `key ${formatKey(k)}`, { kind: familyNoun[family] });
}

/**
 * The open flow: validates the options, resolves the target to an id (by
 * key) and calls `make(id, trust)`; with `create` and no object for the
 * key, `create(key, options.create)` makes it instead.
 */
export function openFamily<T, C extends object>(
  family: SysvFamily,
  options: SysvOpenOptions<C>,
  get: Getter,
  make: (id: number, trust: TrustOptions) => T,
  create: (key: number, create: C) => T,
): T {
  const syscall = `${family}get`;
  if (typeof options !== "object" || options === null) {
    throw invalidArgument(syscall, shown(options), "pass { key } or { id }");
  }
  if ((options.key === undefined) === (options.id === undefined)) {
    const object = options.key === undefined ? "no key or id" : "both key and id";
    throw invalidArgument(syscall, object, "pass exactly one of key and id");
  }
  const trust = { trust: options.trust, trustedUids: options.trustedUids };
  if (options.id !== undefined) {
    if (options.create !== undefined) {
      throw invalidArgument(
        syscall,
        `id ${shown(options.id)}`,
        "create needs a key: an id names an existing object",
      );
    }
    return make(checkId(options.id, syscall), trust);
  }
  if (options.create === undefined) return make(idForKey(family, syscall, options.key, get), trust);
  if (typeof options.create !== "object" || options.create === null) {
    throw invalidArgument(
      syscall,
      creationObject(options.key),
      "create must be an object of creation options",
    );
  }
  const key = checkKey(options.key, syscall);
  if (key === sysv().IPC_PRIVATE) {
    throw invalidArgument(syscall, "IPC_PRIVATE", "open-or-create needs a key other than 0");
  }
  for (let tries = 0;; tries++) {
    try {
      return make(idForKey(family, syscall, key, get), trust);
    } catch (e) {
      if ((e as IpcError).code !== "ENOENT" || tries >= 8) throw e;
    }
    try {
      return create(key, options.create);
    } catch (e) {
      // Someone else created it between our two calls: open theirs.
      if ((e as IpcError).code !== "EEXIST" || tries >= 8) throw e;
    }
  }
}
