/**
 * Socket paths are never followed through a symlink: `bind` refuses any
 * existing path by itself, and `connect` is preceded by an `lstat` here.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { IpcError, ipcError } from "./_errors.ts";
import { statPath } from "./_stat.ts";
import type { TrustOptions } from "./_trust.ts";

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
  const me = libc().geteuid();
  const trusted = st.uid === me || st.uid === 0 || (options.trustedUids ?? []).includes(st.uid);
  if (st.type === "other" && !trusted) {
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
