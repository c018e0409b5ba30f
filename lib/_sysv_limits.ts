/**
 * The host's System V limits, read once from `/proc/sys/kernel` through
 * `lib/_host.ts`.
 *
 * @module
 */
import { procInt, procNumbers } from "./_host.ts";

/** Kernel limits for System V IPC, read from `/proc/sys/kernel`. */
export interface SysvLimits {
  /** `kernel.msgmax`: largest message in bytes. */
  msgmax: number;
  /** `kernel.msgmnb`: default capacity of a new queue, in bytes. */
  msgmnb: number;
  /** `kernel.sem` SEMMSL: most semaphores in one set. */
  semmsl: number;
  /** `kernel.sem` SEMOPM: most operations in one `semop`. */
  semopm: number;
  /** `kernel.shmmax`: largest segment in bytes. */
  shmmax: number;
}

let cachedLimits: SysvLimits | undefined;

/**
 * The host's System V limits (read once). Where `/proc` cannot be read the
 * Linux defaults are used; the kernel enforces the real ones anyway.
 *
 * @example
 * ```ts
 * import { sysvLimits } from "@ipckit/ipckit/sysv";
 * console.log(sysvLimits().msgmax); // 8192 on most hosts
 * ```
 */
export function sysvLimits(): SysvLimits {
  if (cachedLimits) return cachedLimits;
  const sem = procNumbers("/proc/sys/kernel/sem") ?? [32000, 1024000000, 500, 32000];
  return cachedLimits = {
    msgmax: procInt("/proc/sys/kernel/msgmax") ?? 8192,
    msgmnb: procInt("/proc/sys/kernel/msgmnb") ?? 16384,
    semmsl: sem[0],
    semopm: sem[2],
    shmmax: Math.min(procInt("/proc/sys/kernel/shmmax") ?? 2 ** 53, 2 ** 53),
  };
}
