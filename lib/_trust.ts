/**
 * The one trust rule for objects someone else may have made: POSIX queues,
 * semaphores and shared memory, System V objects, FIFOs, lock files, pid
 * files and socket paths. An existing object is used only if its owner (and,
 * for System V, its creator) is this user, root, or listed in `trustedUids`,
 * and neither group nor others may write it; `trust: "any"` skips the check.
 *
 * @module
 */
import { describe } from "./_validate.ts";
import { libc } from "../ffi/libc.ts";
import { invalidArgument, ipcError } from "./_errors.ts";

/** Options of every call that opens an object that may already exist. */
export interface TrustOptions {
  /**
   * `"owner"` (default): refuse (EPERM) an existing object whose owner is not
   * this user, root or one of `trustedUids`, or that group or others may
   * write: another user may have planted it. `"any"`: accept any object.
   */
  trust?: "owner" | "any";
  /** Further uids trusted as owners (with `trust: "owner"`). */
  trustedUids?: readonly number[];
}

/** What the trust rule looks at. */
export interface Ownership {
  /** Owner uid. */
  uid: number;
  /** Creator uid (System V only). */
  cuid?: number;
  /** Permission bits. */
  mode: number;
}

/** Validates `options` before any syscall; returns the trust level. */
export function trustLevel(
  options: TrustOptions | undefined,
  syscall: string,
  object?: string | number,
): "owner" | "any" {
  const trust = options?.trust ?? "owner";
  if (trust !== "owner" && trust !== "any") {
    throw invalidArgument(
      syscall,
      object,
      `trust must be "owner" or "any", got ${describe(trust)}`,
    );
  }
  const uids = options?.trustedUids;
  if (
    uids !== undefined &&
    (!Array.isArray(uids) || !uids.every((u) => Number.isInteger(u) && u >= 0 && u <= 0xffffffff))
  ) {
    throw invalidArgument(syscall, object, "trustedUids must be an array of uids");
  }
  return trust;
}

/** Whether `uid` is trusted: this user, root, or one of `trustedUids`. */
export function isTrustedUid(uid: number, options: TrustOptions | undefined): boolean {
  return uid === libc().geteuid() || uid === 0 || (options?.trustedUids ?? []).includes(uid);
}

/**
 * Throws `PermissionDenied` (EPERM) unless `who` passes the trust rule under
 * `options`.
 */
export function checkOwner(
  who: Ownership,
  options: TrustOptions | undefined,
  syscall: string,
  object: string | number,
  kind: string,
): void {
  if (trustLevel(options, syscall, object) === "any") return;
  const ok = (uid: number) => isTrustedUid(uid, options);
  const why = !ok(who.uid)
    ? `owned by uid ${who.uid}, not by this user (uid ${libc().geteuid()})`
    : who.cuid !== undefined && !ok(who.cuid)
    ? `created by uid ${who.cuid}`
    : (who.mode & 0o022) !== 0
    ? `writable by group or others (mode 0${who.mode.toString(8)})`
    : null;
  if (why === null) return;
  throw ipcError({
    code: "EPERM",
    syscall,
    object,
    detail: `untrusted ${kind}: ${why}`,
    hint: 'pass { trust: "any" } or trustedUids if that is expected',
  });
}
