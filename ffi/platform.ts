/**
 * Platform detection and per-architecture tables.
 *
 * ipckit speaks to glibc on Linux x86_64 and aarch64 only. Everything that
 * differs between those two (a few `O_*` flags, syscall numbers, `semid_ds`)
 * lives in tables keyed by architecture; any other target is refused with an
 * explicit error instead of being handed bytes laid out for another ABI.
 *
 * @module
 */

/** The architectures ipckit has verified tables for. */
export type Arch = "x86_64" | "aarch64";

/** A table split into the part shared by every supported arch and per-arch parts. */
export interface PerArch<T> {
  common: T;
  x86_64?: Partial<T>;
  aarch64?: Partial<T>;
}

/**
 * Raised on first use when the platform has no verified tables.
 *
 * @example Explaining a refused platform
 * ```ts
 * import { createPipe, UnsupportedPlatformError } from "@ipckit/ipckit";
 * try {
 *   using pipe = createPipe();
 *   console.log(pipe.reader.fd >= 0); // true on Linux x86_64 or aarch64
 * } catch (e) {
 *   if (!(e instanceof UnsupportedPlatformError)) throw e;
 *   console.error(`no native IPC on ${e.target}; falling back`);
 * }
 * ```
 */
export class UnsupportedPlatformError extends Error {
  /** Always `"UnsupportedPlatformError"`. */
  override name = "UnsupportedPlatformError";
  /** `Deno.build.target` of the refused platform. */
  readonly target: string;
  /** Builds the error for `target`, saying `why` it is refused. */
  constructor(target: string, why: string) {
    super(
      `ipckit: unsupported platform ${text(target)}: ${
        text(why)
      }; ipckit supports Linux x86_64 and aarch64 with glibc`,
    );
    this.target = text(target);
  }
}

/** `String(v)`, or its type for a value that has no string form (an object without a prototype). */
function text(v: unknown): string {
  try {
    return String(v);
  } catch {
    return typeof v;
  }
}

let cachedArch: Arch | undefined;

/**
 * The architecture of `build` if ipckit has tables for it, or throws
 * {@linkcode UnsupportedPlatformError}.
 */
export function supportedArch(build: Pick<typeof Deno.build, "os" | "arch" | "target">): Arch {
  const { os, arch, target } = build;
  if (os !== "linux") throw new UnsupportedPlatformError(target, `os "${os}"`);
  if (arch !== "x86_64" && arch !== "aarch64") {
    throw new UnsupportedPlatformError(target, `architecture "${arch}"`);
  }
  if (!target.endsWith("-gnu")) {
    throw new UnsupportedPlatformError(target, "the C library is not glibc");
  }
  return arch;
}

/** The running architecture, or throws {@linkcode UnsupportedPlatformError}. */
export function arch(): Arch {
  return cachedArch ??= supportedArch(Deno.build);
}

/** Resolves a {@linkcode PerArch} table for `forArch` (default: the running arch). */
export function resolve<T>(table: PerArch<T>, forArch: Arch = arch()): T {
  return { ...table.common, ...table[forArch] } as T;
}

/**
 * Returns an accessor that resolves a per-arch table once, on first call, so
 * that importing a module on an unsupported platform throws only when the
 * mechanism is used.
 */
export function lazyTable<T>(table: PerArch<T>): () => T {
  let resolved: T | undefined;
  return () => resolved ??= resolve(table);
}
