/**
 * The file behind a named semaphore: glibc keeps `/NAME` as
 * `/dev/shm/sem.NAME` and maps it without looking at its size, so a file
 * truncated below `sizeof(sem_t)` kills the mapping process with SIGBUS on
 * the first operation. Here the file is checked before `sem_open` maps it,
 * and a value can be read without mapping it at all (for listings and
 * `ipckit sem value`, which look at semaphores anyone may have made).
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { semaphoreLayout } from "../ffi/semaphore.ts";
import { invalidArgument, sys } from "./_errors.ts";
import { statFd, type StatInfo, statPath } from "./_stat.ts";
import { checkOwner, type TrustOptions } from "./_trust.ts";

/** The file glibc keeps the named semaphore `name` in. */
export function semPath(name: string): string {
  return `/dev/shm/sem.${name.slice(1)}`;
}

/** `statx` of the semaphore file (not following a symlink), errors named as `sem_open`'s. */
function statSemaphore(name: string): StatInfo {
  return statPath(semPath(name), { syscall: "sem_open", object: name, kind: "semaphore" });
}

/** EINVAL unless `st` is a regular file big enough to hold a semaphore. */
function checkShape(name: string, st: StatInfo): void {
  const need = semaphoreLayout().sem_t.size;
  if (st.type === "file" && st.size >= need) return;
  throw invalidArgument(
    "sem_open",
    name,
    st.type !== "file"
      ? `${semPath(name)} is not a regular file (a ${
        st.type === "other" ? "symlink or other" : st.type
      })`
      : `${semPath(name)} holds ${st.size} bytes, less than a semaphore (${need}): ` +
        "it was truncated, and mapping it would crash the process (SIGBUS)",
  );
}

/**
 * Refuses a semaphore file that is not a regular file of at least
 * `sizeof(sem_t)` bytes (EINVAL) or fails the trust rule (EPERM), before
 * `sem_open` maps it. What is left: whoever can write the file (its owner,
 * trusted by the rule, or anyone when `trust: "any"` accepted a writable
 * file) can still truncate it after this check, and a later operation then
 * dies with SIGBUS. Named semaphores cannot be sealed.
 */
export function checkSemaphoreFile(name: string, options: TrustOptions): void {
  const st = statSemaphore(name);
  checkOwner(st, options, "sem_open", name, "semaphore");
  checkShape(name, st);
}

/**
 * The value of the named semaphore `name`, read from its file with `read()`
 * instead of mapping it, so no one (whatever they do to the file) can crash
 * the reader. The file is opened non-blocking (a planted FIFO cannot hang
 * the open) and must be the very file that was checked (same device and
 * inode, so a symlink swapped in meanwhile is refused). The value is the low
 * 32 bits of glibc's `struct new_sem` (`data & SEM_VALUE_MASK`, 64-bit
 * atomics: x86_64 and aarch64).
 *
 * @throws {IpcError} ENOENT; EACCES if unreadable; EINVAL if not a semaphore file.
 */
export function readSemaphoreValue(name: string): number {
  const st = statSemaphore(name);
  checkShape(name, st);
  const C = unistd();
  const lib = libc();
  const path = cstr(semPath(name));
  const fd = sys(
    () => lib.open(path, C.O_RDONLY | C.O_NONBLOCK | C.O_NOCTTY | C.O_CLOEXEC, 0),
    "open",
    semPath(name),
    { kind: "semaphore" },
  );
  try {
    const now = statFd(fd, name);
    if (now.dev !== st.dev || now.ino !== st.ino) {
      throw invalidArgument("sem_open", name, `${semPath(name)} was replaced while being read`);
    }
    checkShape(name, now);
    const buf = new Uint8Array(8);
    if (lib.read(fd, buf, 8n) < 4) {
      throw invalidArgument("sem_open", name, `${semPath(name)} could not be read`);
    }
    return new DataView(buf.buffer).getUint32(0, true);
  } finally {
    lib.close(fd);
  }
}
