/**
 * The one handle on the C library: opened once, lazily, after the platform
 * check. Symbol tables live one per header area beside this file; this module
 * only merges and loads them.
 *
 * @module
 */
import { arch } from "./platform.ts";
import { unistdSymbols } from "./unistd.ts";
import { mqueueSymbols } from "./mqueue.ts";
import { semaphoreSymbols } from "./semaphore.ts";
import { mmanSymbols } from "./mman.ts";
import { sysvSymbols } from "./sysv.ts";
import { socketSymbols } from "./socket.ts";
import { signalSymbols } from "./signal.ts";
import { lockSymbols } from "./lock.ts";
import { direntSymbols } from "./dirent.ts";
import { futexSymbols } from "./futex.ts";

const symbols = {
  ...unistdSymbols,
  ...mqueueSymbols,
  ...semaphoreSymbols,
  ...mmanSymbols,
  ...sysvSymbols,
  ...socketSymbols,
  ...signalSymbols,
  ...lockSymbols,
  ...direntSymbols,
  ...futexSymbols,
} as const satisfies Deno.ForeignLibraryInterface;

/** Every libc function ipckit calls, typed. */
export type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];

let lib: Libc | undefined;

/**
 * Opens `libc.so.6` on first use. Throws `UnsupportedPlatformError` off
 * Linux x86_64/aarch64 glibc, and a clear message without `--allow-ffi`.
 */
export function libc(): Libc {
  if (lib) return lib;
  arch();
  try {
    lib = Deno.dlopen("libc.so.6", symbols).symbols;
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new Deno.errors.NotCapable(
        "ipckit calls the C library directly and needs --allow-ffi (run with `deno run --allow-ffi ...`)",
        { cause: e },
      );
    }
    throw e;
  }
  // errno view first, before any call can fail (see ffi/errno.ts).
  ERRNO = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(lib.__errno_location()!, 4));
  return lib;
}

/**
 * This thread's errno as a one-element view: read `ERRNO[0]` inline right
 * after a failing call (ffi/errno.ts says why). Mapped by {@linkcode libc}
 * when it loads the library, before any call can fail; until then a
 * placeholder.
 */
export let ERRNO: Int32Array = new Int32Array(1);

const encoder = new TextEncoder();

/** A NUL-terminated copy of `s` for a `"buffer"` parameter. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}
