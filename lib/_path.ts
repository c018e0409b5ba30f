/**
 * Socket paths are never followed through a symlink: `bind` refuses any
 * existing path by itself, and `connect` is preceded by an `lstat` here.
 *
 * @module
 */
import { IpcError, ipcError } from "./_errors.ts";
import { statPath } from "./_stat.ts";

/**
 * Refuses (ELOOP) a path that is a symlink (or anything but a socket, a
 * regular file or a directory, which `connect` reports itself). A missing
 * path is left for `connect` to report.
 */
export function lstatSocket(path: string, syscall: string, name: string): void {
  let type;
  try {
    type = statPath(path).type;
  } catch (e) {
    if (e instanceof IpcError) return; // ENOENT, EACCES...: connect says it better
    throw e;
  }
  if (type === "other") {
    throw ipcError({
      code: "ELOOP",
      syscall,
      object: name,
      detail: "the path is a symbolic link (or not a socket), and socket paths are not followed",
      hint: 'pass { trust: "any" } to connect through a symlink you trust',
    });
  }
}
