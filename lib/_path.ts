/**
 * Socket paths are not followed through a symlink an untrusted user put at
 * the path itself: `bind` refuses any existing path by itself, and `connect`
 * is preceded by an `lstat` here. (Links in the directories above are
 * followed, and a link swapped in between the `lstat` and the `connect` is
 * not caught: a directory others can write is no place for a socket.)
 *
 * @module
 */
import { IpcError, ipcError } from "./_errors.ts";
import { statPath } from "./_stat.ts";
import { isTrustedUid, type TrustOptions } from "./_trust.ts";

/**
 * Refuses (ELOOP) a path that is a symlink planted by someone untrusted: a
 * link owned by another user than this one, root or `trustedUids` (a
 * system's own links, such as `/dev/log`, are root's). A missing path is
 * left for `connect` to report.
 */
export function lstatSocket(
  path: string,
  options: TrustOptions,
  syscall: string,
  name: string,
): void {
  let st;
  try {
    st = statPath(path);
  } catch (e) {
    if (e instanceof IpcError) return; // ENOENT, EACCES...: connect says it better
    throw e;
  }
  if (st.type === "other" && !isTrustedUid(st.uid, options)) {
    throw ipcError({
      code: "ELOOP",
      syscall,
      object: name,
      detail: `the path is a symbolic link (or not a socket) owned by uid ${st.uid}, ` +
        "and socket paths are not followed through links of untrusted users",
      hint: 'pass { trust: "any" } to connect through a symlink you trust',
    });
  }
}
