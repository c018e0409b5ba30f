/**
 * `<signal.h>`, `<sys/signalfd.h>`: sending signals (kill, sigqueue, pidfd),
 * reading them with siginfo through signalfd, and signal sets.
 *
 * `sigqueue` takes `union sigval` by value: an 8-byte union of an int and a
 * pointer, which both x86_64 and aarch64 pass in one integer register, so it
 * is declared `i64` (the int member is the low 32 bits).
 *
 * `pidfd_open`/`pidfd_send_signal` appeared in glibc 2.36: they are optional,
 * with `syscall()` declarations (numbers 434/424 on both arches) as the
 * fallback.
 *
 * No disposition-setting function (`signal`, `sigaction`) is declared on
 * purpose: setting one through FFI silently breaks `Deno.addSignalListener`.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const signalSymbols = {
  kill: { parameters: ["i32", "i32"], result: "i32" },
  sigqueue: { parameters: ["i32", "i32", "i64"], result: "i32" },
  pidfd_open: { parameters: ["i32", "u32"], result: "i32", optional: true },
  pidfd_send_signal: {
    parameters: ["i32", "i32", "buffer", "u32"],
    result: "i32",
    optional: true,
  },
  /** `syscall(SYS_pidfd_open, pid, flags)` for glibc < 2.36. */
  syscall_pidfd_open: { name: "syscall", parameters: ["i64", "i32", "u32"], result: "i32" },
  /** `syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags)` for glibc < 2.36. */
  syscall_pidfd_send_signal: {
    name: "syscall",
    parameters: ["i64", "i32", "i32", "buffer", "u32"],
    result: "i32",
  },
  signalfd: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  sigaddset: { parameters: ["buffer", "i32"], result: "i32" },
  sigismember: { parameters: ["buffer", "i32"], result: "i32" },
  /** Only ever used right before `execve` (the mask then covers every thread of the new image). */
  pthread_sigmask: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  __libc_current_sigrtmin: { parameters: [], result: "i32" },
  __libc_current_sigrtmax: { parameters: [], result: "i32" },
  getuid: { parameters: [], result: "u32" },
  getpgid: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const signalConstants: PerArch<Record<string, number>> = {
  common: {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGILL: 4,
    SIGTRAP: 5,
    SIGABRT: 6,
    SIGBUS: 7,
    SIGFPE: 8,
    SIGKILL: 9,
    SIGUSR1: 10,
    SIGSEGV: 11,
    SIGUSR2: 12,
    SIGPIPE: 13,
    SIGALRM: 14,
    SIGTERM: 15,
    SIGSTKFLT: 16,
    SIGCHLD: 17,
    SIGCONT: 18,
    SIGSTOP: 19,
    SIGTSTP: 20,
    SIGTTIN: 21,
    SIGTTOU: 22,
    SIGURG: 23,
    SIGXCPU: 24,
    SIGXFSZ: 25,
    SIGVTALRM: 26,
    SIGPROF: 27,
    SIGWINCH: 28,
    SIGIO: 29,
    SIGPWR: 30,
    SIGSYS: 31,
    _NSIG: 65,
    SIG_BLOCK: 0,
    SIG_UNBLOCK: 1,
    SIG_SETMASK: 2,
    SFD_NONBLOCK: 0x800,
    SFD_CLOEXEC: 0x80000,
    SI_USER: 0,
    SI_KERNEL: 0x80,
    SI_QUEUE: -1,
    SI_TIMER: -2,
    SI_MESGQ: -3,
    SI_ASYNCIO: -4,
    SI_SIGIO: -5,
    SI_TKILL: -6,
    SYS_pidfd_open: 434,
    SYS_pidfd_send_signal: 424,
  },
};

/** Struct layouts for this area. */
export const signalLayouts: PerArch<Record<string, Layout>> = {
  common: {
    signalfd_siginfo: {
      c: "struct signalfd_siginfo",
      size: 128,
      fields: {
        ssi_signo: [0, 4],
        ssi_errno: [4, 4],
        ssi_code: [8, 4],
        ssi_pid: [12, 4],
        ssi_uid: [16, 4],
        ssi_int: [44, 4],
        ssi_ptr: [48, 8],
      },
    },
    siginfo_t: {
      c: "siginfo_t",
      size: 128,
      fields: {
        si_signo: [0, 4],
        si_errno: [4, 4],
        si_code: [8, 4],
        si_pid: [16, 4],
        si_uid: [20, 4],
        si_value: [24, 8],
      },
    },
    sigset_t: { c: "sigset_t", size: 128, fields: {} },
  },
};

/** Headers the layout probe includes for this area. */
export const signalHeaders: string[] = ["signal.h", "sys/signalfd.h", "sys/syscall.h"];

/** The running arch's constants for this area. */
export const signal = lazyTable(signalConstants);
/** The running arch's layouts for this area. */
export const signalLayout = lazyTable(signalLayouts);
