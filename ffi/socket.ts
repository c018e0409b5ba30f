/**
 * `<sys/socket.h>`, `<sys/un.h>`: Unix domain sockets, fd passing and
 * credentials.
 *
 * `send`/`recv`/`sendmsg`/`recvmsg` are declared with an `i32` result (like
 * `read`/`write` in `unistd.ts`): callers never move more than 2^30 bytes in
 * one call, so the low 32 bits hold the whole value and errno stays safe.
 * Every call here is synchronous and made on the JS thread with a
 * non-blocking socket: memory reached through pointers inside `msghdr` is
 * only used for the duration of the call.
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const socketSymbols = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  sendmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  recvmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * Constants for this area, checked against C by `tests/layout_test.ts`.
 * `CMSG_LEN(0)` (the data offset in a control message) and `CMSG_SPACE(1)`
 * (header plus one alignment unit) are evaluated by the probe like the other
 * macros; the CMSG arithmetic in `lib/_msghdr.ts` is derived from them.
 */
export const socketConstants: PerArch<Record<string, number>> = {
  common: {
    AF_UNIX: 1,
    SOCK_STREAM: 1,
    SOCK_DGRAM: 2,
    SOCK_SEQPACKET: 5,
    SOCK_NONBLOCK: 0x800,
    SOCK_CLOEXEC: 0x80000,
    SOL_SOCKET: 1,
    SCM_RIGHTS: 1,
    SCM_CREDENTIALS: 2,
    SO_TYPE: 3,
    SO_ERROR: 4,
    SO_SNDBUF: 7,
    SO_RCVBUF: 8,
    SO_PASSCRED: 16,
    SO_PEERCRED: 17,
    SO_ACCEPTCONN: 30,
    SO_DOMAIN: 39,
    SOMAXCONN: 4096,
    MSG_PEEK: 2,
    MSG_CTRUNC: 8,
    MSG_TRUNC: 0x20,
    MSG_DONTWAIT: 0x40,
    MSG_EOR: 0x80,
    MSG_NOSIGNAL: 0x4000,
    MSG_CMSG_CLOEXEC: 0x40000000,
    SHUT_RD: 0,
    SHUT_WR: 1,
    SHUT_RDWR: 2,
    "CMSG_LEN(0)": 16,
    "CMSG_SPACE(1)": 24,
  },
};

/** Struct layouts for this area. */
export const socketLayouts: PerArch<Record<string, Layout>> = {
  common: {
    sockaddr_un: {
      c: "struct sockaddr_un",
      size: 110,
      fields: { sun_family: [0, 2], sun_path: [2, 108] },
    },
    iovec: { c: "struct iovec", size: 16, fields: { iov_base: [0, 8], iov_len: [8, 8] } },
    msghdr: {
      c: "struct msghdr",
      size: 56,
      fields: {
        msg_name: [0, 8],
        msg_namelen: [8, 4],
        msg_iov: [16, 8],
        msg_iovlen: [24, 8],
        msg_control: [32, 8],
        msg_controllen: [40, 8],
        msg_flags: [48, 4],
      },
    },
    cmsghdr: {
      c: "struct cmsghdr",
      size: 16,
      fields: { cmsg_len: [0, 8], cmsg_level: [8, 4], cmsg_type: [12, 4] },
    },
    ucred: { c: "struct ucred", size: 12, fields: { pid: [0, 4], uid: [4, 4], gid: [8, 4] } },
  },
};

/** Headers the layout probe includes for this area. */
export const socketHeaders: string[] = ["sys/socket.h", "sys/un.h"];

/** The running arch's constants for this area. */
export const socket = lazyTable(socketConstants);
/** The running arch's layouts for this area. */
export const socketLayout = lazyTable(socketLayouts);
