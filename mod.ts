/**
 * ipckit: every Linux IPC mechanism for Deno scripts, through libc.
 *
 * Needs `--allow-ffi` (which in practice grants everything the C library can
 * do: say so to whoever runs your script). Each mechanism is also its own
 * subpath (`@ipckit/ipckit/mq`, `/shm`, `/socket`, `/signal`, `/lock`,
 * `/sysv`...), so a script can import only what it uses; this module
 * re-exports them all. `docs/vocabulary.md` lists the shapes every mechanism
 * shares.
 *
 * @example
 * ```ts
 * import { createPipe } from "@ipckit/ipckit";
 * using pipe = createPipe();
 * await pipe.writer.writeAll(new TextEncoder().encode("hello"));
 * pipe.writer.close();
 * console.log(new TextDecoder().decode(await pipe.reader.readAll()));
 * ```
 *
 * @module
 */
export * from "./lib/errors.ts";
export type { WaitOptions } from "./lib/wait.ts";
export * from "./lib/fd.ts";
export * from "./lib/pipe.ts";
export * from "./lib/fifo.ts";
export * from "./lib/socket.ts";
export * from "./lib/fdpass.ts";
export * from "./lib/systemd.ts";
export * from "./lib/eventfd.ts";
export * from "./lib/signal.ts";
export * from "./lib/lock.ts";
export * from "./lib/shutdown.ts";
export * from "./lib/mqueue.ts";
export * from "./lib/semaphore.ts";
export * from "./lib/shm.ts";
export * from "./lib/channel.ts";
export * from "./lib/sysv.ts";
export * from "./lib/inspect.ts";
export type { TrustOptions } from "./lib/_trust.ts";
