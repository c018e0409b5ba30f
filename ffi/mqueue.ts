/**
 * `<mqueue.h>`: POSIX message queues. On Linux an `mqd_t` is a descriptor
 * that `poll()` reports readable (a message is queued) or writable (there is
 * room), so queue waits go through the shared reactor.
 *
 * `mq_receive` returns `ssize_t`; it is declared `i32` because a message is
 * at most `fs.mqueue.msgsize_max` (<= 16 MiB) bytes, so the low 32 bits hold
 * the whole value and the result stays a small integer (no BigInt, errno safe).
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const mqueueSymbols = {
  mq_open: { parameters: ["buffer", "i32", "u32", "buffer"], result: "i32" },
  mq_close: { parameters: ["i32"], result: "i32" },
  mq_unlink: { parameters: ["buffer"], result: "i32" },
  mq_getattr: { parameters: ["i32", "buffer"], result: "i32" },
  mq_setattr: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  mq_send: { parameters: ["i32", "buffer", "usize", "u32"], result: "i32" },
  mq_receive: { parameters: ["i32", "buffer", "usize", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const mqueueConstants: PerArch<Record<string, number>> = {
  common: { MQ_PRIO_MAX: 32768 },
};

/** Struct layouts for this area. */
export const mqueueLayouts: PerArch<Record<string, Layout>> = {
  common: {
    mq_attr: {
      c: "struct mq_attr",
      size: 64,
      fields: { mq_flags: [0, 8], mq_maxmsg: [8, 8], mq_msgsize: [16, 8], mq_curmsgs: [24, 8] },
    },
  },
};

/** Headers the layout probe includes for this area. */
export const mqueueHeaders: string[] = ["mqueue.h", "limits.h"];

/** The running arch's constants for this area. */
export const mqueue = lazyTable(mqueueConstants);
/** The running arch's layouts for this area. */
export const mqueueLayout = lazyTable(mqueueLayouts);
