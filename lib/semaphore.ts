/**
 * POSIX semaphores: named ones ({@linkcode createSemaphore},
 * {@linkcode openSemaphore}) shared by name between processes (a name is a
 * slash and 1 to 251 bytes: glibc stores it as `/dev/shm/sem.<name>`, so
 * `NAME_MAX` minus 4), and unnamed process-shared ones placed inside a
 * shared-memory region ({@linkcode semaphoreInRegion}). `wait()` never blocks
 * the event loop (a `sem_trywait` on this thread, with short timed waits on
 * Deno's pool as wake-up hints); `tryWait()` never waits.
 * {@linkcode withSemaphore} runs a function as a cross-process critical section.
 *
 * @example A named semaphore used as a lock
 * ```ts
 * import { createSemaphore } from "@ipckit/ipckit";
 * using sem = createSemaphore("/ipckit-doc-sem", { value: 1 });
 * sem.remove();
 * await sem.wait({ timeout: 1000 });
 * try {
 *   // critical section
 * } finally {
 *   sem.post();
 * }
 * ```
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { semaphore } from "../ffi/semaphore.ts";
import { E } from "../ffi/errno.ts";
import { invalidArgument, IpcError, sys, sysPointer } from "./_errors.ts";
import { checkSemaphoreFile, semPath } from "./_sem_file.ts";
import { checkMode, optionsObject } from "./_validate.ts";
import { checkInt, checkPosixName, orDefault, SEMAPHORE_NAME_MAX } from "./_posix.ts";
import { trustLevel, type TrustOptions } from "./_trust.ts";
import type { WaitOptions } from "./wait.ts";
import { KIND, named, type Semaphore } from "./_sem_handle.ts";

export {
  type RegionSemaphoreOptions,
  removeSemaphore,
  Semaphore,
  semaphoreInRegion,
  semaphoreSize,
} from "./_sem_handle.ts";
export type { TrustOptions } from "./_trust.ts";

/**
 * Longest semaphore name in bytes after the slash: 251, because glibc keeps
 * the semaphore as the file `/dev/shm/sem.<name>` and a file name has at most
 * `NAME_MAX` (255) bytes.
 */
export { SEMAPHORE_NAME_MAX };

/** Options for {@linkcode createSemaphore} (and `create` of {@linkcode openSemaphore}). */
export interface CreateSemaphoreOptions {
  /** Permission bits, applied exactly (umask ignored). Default `0o600`. */
  mode?: number;
  /** Initial value (0 to `SEM_VALUE_MAX`). Default 0. */
  value?: number;
}

/** Options for {@linkcode openSemaphore}. */
export interface OpenSemaphoreOptions extends TrustOptions {
  /**
   * Create the semaphore with these options if it does not exist (an
   * existing one is opened and must pass the trust check).
   */
  create?: CreateSemaphoreOptions;
}

const semFailed = (p: Deno.PointerValue) => p === null;

function createExclusive(
  name: string,
  options: CreateSemaphoreOptions,
  orOpen: boolean,
): Semaphore | null {
  const opts = optionsObject(options, "sem_open", name);
  const mode = checkMode(orDefault(opts.mode, 0o600), "sem_open", name);
  const value = checkInt(orDefault(opts.value, 0), "value", "sem_open", name, {
    min: 0,
    max: semaphore().SEM_VALUE_MAX,
    limit: "SEM_VALUE_MAX",
  });
  const C = unistd();
  const lib = libc();
  const c = cstr(name);
  let p: Deno.PointerObject;
  try {
    p = sysPointer(
      () => lib.sem_open(c, C.O_CREAT | C.O_EXCL, mode, value),
      semFailed,
      "sem_open",
      name,
      KIND,
    );
  } catch (e) {
    if (orOpen && e instanceof IpcError && e.errno === E().EEXIST) return null;
    throw e;
  }
  // sem_open applied the umask; glibc keeps the semaphore as a file in /dev/shm.
  try {
    sys(() => lib.chmod(cstr(semPath(name)), mode), "chmod", name);
  } catch (e) {
    lib.sem_close(p);
    lib.sem_unlink(c);
    throw e;
  }
  return named(p, name);
}

/**
 * Creates the named semaphore `name` (exclusively: EEXIST if it exists).
 *
 * @example
 * ```ts
 * import { createSemaphore } from "@ipckit/ipckit";
 * using sem = createSemaphore("/ipckit-doc-create-sem", { value: 2 });
 * sem.remove();
 * console.log(sem.value()); // 2
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name, mode or value, before any
 * syscall; ENAMETOOLONG over {@linkcode SEMAPHORE_NAME_MAX} bytes;
 * `AlreadyExists` (EEXIST); `PermissionDenied` (EACCES).
 */
export function createSemaphore(name: string, options: CreateSemaphoreOptions = {}): Semaphore {
  checkPosixName(name, "sem_open", SEMAPHORE_NAME_MAX);
  return createExclusive(name, options, false)!;
}

/**
 * Opens the existing named semaphore `name`; with `create`, creates it first
 * if it does not exist. An existing semaphore must pass the trust rule unless
 * `trust: "any"`.
 *
 * @example Open or create
 * ```ts
 * import { openSemaphore } from "@ipckit/ipckit";
 * using sem = openSemaphore("/ipckit-doc-open-sem", { create: { value: 2 } });
 * sem.remove();
 * console.log(sem.value()); // 2
 * ```
 *
 * @throws {IpcError} EINVAL for a bad name or option, before any syscall;
 * ENAMETOOLONG over {@linkcode SEMAPHORE_NAME_MAX} bytes; `NotFound`
 * (ENOENT); `PermissionDenied` (EACCES; EPERM if untrusted).
 */
export function openSemaphore(name: string, options: OpenSemaphoreOptions = {}): Semaphore {
  checkPosixName(name, "sem_open", SEMAPHORE_NAME_MAX);
  options = optionsObject(options, "sem_open", name);
  trustLevel(options, "sem_open", name);
  if (options.create !== undefined) {
    if (typeof options.create !== "object" || options.create === null) {
      throw invalidArgument("sem_open", name, "create must be an object of creation options");
    }
    const made = createExclusive(name, options.create, true);
    if (made) return made;
  }
  // glibc maps the file /dev/shm/sem.<name> without looking at its size: a
  // file its owner truncated below sizeof(sem_t) would kill this process with
  // SIGBUS on the first operation. So look at the file (without following a
  // symlink) before sem_open maps it: its type, size and owner.
  checkSemaphoreFile(name, options);
  const lib = libc();
  const c = cstr(name);
  const p = sysPointer(() => lib.sem_open(c, 0, 0, 0), semFailed, "sem_open", name, KIND);
  return named(p, name);
}

/**
 * Runs `fn` while holding the named semaphore `name` (created with value 1
 * if missing): a critical section across processes. The semaphore is posted
 * back even if `fn` throws.
 *
 * @example
 * ```ts
 * import { removeSemaphore, withSemaphore } from "@ipckit/ipckit";
 * const n = await withSemaphore("/ipckit-doc-with", () => 42, { timeout: 1000 });
 * removeSemaphore("/ipckit-doc-with");
 * console.log(n); // 42
 * ```
 *
 * @throws {IpcError} `TimedOut` if the section is not free within `timeout`; what `fn` throws.
 */
export async function withSemaphore<T>(
  name: string,
  fn: () => T | Promise<T>,
  options: WaitOptions & TrustOptions & { mode?: number } = {},
): Promise<T> {
  options = optionsObject(options, "sem_open", name);
  if (typeof fn !== "function") throw invalidArgument("sem_wait", name, "fn must be a function");
  using sem = openSemaphore(name, {
    create: { value: 1, mode: options.mode },
    trust: options.trust,
    trustedUids: options.trustedUids,
  });
  await sem.wait(options);
  try {
    return await fn();
  } finally {
    sem.post();
  }
}
