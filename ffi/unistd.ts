/**
 * `<unistd.h>`, `<fcntl.h>`, `<poll.h>`, `<sys/eventfd.h>`, `<sys/stat.h>`:
 * descriptors, pipes, FIFOs, readiness.
 *
 * `read`/`write` are declared with an `i32` result although they return
 * `ssize_t`: callers never pass more than 2^30 bytes, so the low 32 bits hold
 * the whole value (and -1 stays -1), and an `i32` result comes back as a small
 * integer instead of an allocated BigInt, which keeps errno safe and the call
 * cheap.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for descriptors, pipes, FIFOs and readiness. */
export const unistdSymbols = {
  __errno_location: { parameters: [], result: "pointer" },
  strerrorname_np: { parameters: ["i32"], result: "pointer", optional: true },
  strerrordesc_np: { parameters: ["i32"], result: "pointer", optional: true },
  read: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  pipe2: { parameters: ["buffer", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  chmod: { parameters: ["buffer", "u32"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  unlink: { parameters: ["buffer"], result: "i32" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  /** Lets a peer that shares this CPU run while a wait spins (lib/_spinner.ts). */
  sched_yield: { parameters: [], result: "i32" },
  /** The reactor's interest list (lib/_reactor.ts): registered once, armed one-shot per wait. */
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  /** The reactor's one pool call: a wake-up hint only, errno never read. */
  epoll_wait_nb: {
    name: "epoll_wait",
    parameters: ["i32", "buffer", "i32", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /** A short wait in the kernel on the JS thread, with a nanosecond timeout (lib/_spinner.ts). */
  ppoll: { parameters: ["buffer", "u64", "buffer", "pointer"], result: "i32" },
  inotify_init1: { parameters: ["i32"], result: "i32" },
  inotify_add_watch: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getpid: { parameters: [], result: "i32" },
  geteuid: { parameters: [], result: "u32" },
  getpagesize: { parameters: [], result: "i32" },
  getegid: { parameters: [], result: "u32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants from the headers above, checked against C by `tests/layout_test.ts`. */
export const unistdConstants: PerArch<Record<string, number>> = {
  common: {
    O_RDONLY: 0,
    O_WRONLY: 1,
    O_RDWR: 2,
    O_CREAT: 0x40,
    O_EXCL: 0x80,
    O_NOCTTY: 0x100,
    O_TRUNC: 0x200,
    O_APPEND: 0x400,
    O_NONBLOCK: 0x800,
    O_CLOEXEC: 0x80000,
    O_DIRECT: 0x4000,
    F_DUPFD_CLOEXEC: 1030,
    F_GETFD: 1,
    F_SETFD: 2,
    F_GETFL: 3,
    F_SETFL: 4,
    FD_CLOEXEC: 1,
    F_SETPIPE_SZ: 1031,
    F_GETPIPE_SZ: 1032,
    POLLIN: 1,
    POLLPRI: 2,
    POLLOUT: 4,
    POLLERR: 8,
    POLLHUP: 16,
    POLLNVAL: 32,
    EFD_CLOEXEC: 0x80000,
    EFD_NONBLOCK: 0x800,
    EFD_SEMAPHORE: 1,
    EPOLL_CLOEXEC: 0x80000,
    EPOLL_CTL_ADD: 1,
    EPOLL_CTL_DEL: 2,
    EPOLL_CTL_MOD: 3,
    EPOLLONESHOT: 0x40000000,
    IN_OPEN: 0x20,
    IN_DONT_FOLLOW: 0x2000000,
    O_PATH: 0o10000000,
    IN_NONBLOCK: 0x800,
    IN_CLOEXEC: 0x80000,
    AT_FDCWD: -100,
    AT_EMPTY_PATH: 0x1000,
    AT_SYMLINK_NOFOLLOW: 0x100,
    STATX_BASIC_STATS: 0x7ff,
    S_IFMT: 0o170000,
    S_IFIFO: 0o010000,
    S_IFREG: 0o100000,
    S_IFDIR: 0o040000,
    S_IFSOCK: 0o140000,
    S_IFCHR: 0o020000,
  },
  x86_64: { O_DIRECTORY: 0x10000, O_NOFOLLOW: 0x20000, O_DIRECT: 0x4000 },
  aarch64: { O_DIRECTORY: 0x4000, O_NOFOLLOW: 0x8000, O_DIRECT: 0x10000 },
};

/** Struct layouts for the headers above. */
export const unistdLayouts: PerArch<Record<string, Layout>> = {
  // Packed on x86_64 only (__EPOLL_PACKED in <sys/epoll.h>).
  x86_64: {
    epoll_event: { c: "struct epoll_event", size: 12, fields: { events: [0, 4], data: [4, 8] } },
  },
  aarch64: {
    epoll_event: { c: "struct epoll_event", size: 16, fields: { events: [0, 4], data: [8, 8] } },
  },
  common: {
    pollfd: {
      c: "struct pollfd",
      size: 8,
      fields: { fd: [0, 4], events: [4, 2], revents: [6, 2] },
    },
    statx: {
      c: "struct statx",
      size: 256,
      fields: {
        stx_mask: [0, 4],
        stx_nlink: [16, 4],
        stx_uid: [20, 4],
        stx_gid: [24, 4],
        stx_mode: [28, 2],
        stx_ino: [32, 8],
        stx_size: [40, 8],
        stx_blocks: [48, 8],
        stx_dev_major: [136, 4],
        stx_dev_minor: [140, 4],
      },
    },
  },
};

/** Headers the layout probe includes for this area. */
export const unistdHeaders = [
  "fcntl.h",
  "unistd.h",
  "poll.h",
  "sys/eventfd.h",
  "sys/epoll.h",
  "sys/stat.h",
  "sys/syscall.h",
  "sys/inotify.h",
];

/** The running arch's constants for this area. */
export const unistd = lazyTable(unistdConstants);
/** The running arch's layouts for this area. */
export const unistdLayout = lazyTable(unistdLayouts);
