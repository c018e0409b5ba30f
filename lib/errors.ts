/**
 * Errors: every failure in ipckit is an {@linkcode IpcError} carrying the
 * errno code (`"ENOENT"`), its number, the syscall and the object's name,
 * with a message a person can act on:
 *
 * ```text
 * mq_open "/jobs": no such queue (ENOENT)
 * ```
 *
 * Where Deno has a matching class, `instanceof` works too: an `ENOENT` error
 * is `instanceof Deno.errors.NotFound` as well as `instanceof IpcError`.
 * Off Linux x86_64/aarch64 glibc, the first call throws
 * {@linkcode UnsupportedPlatformError}.
 *
 * @example
 * ```ts
 * import { IpcError } from "@ipckit/ipckit/errors";
 * import { openMessageQueue } from "@ipckit/ipckit/mq";
 * try {
 *   openMessageQueue("/ipckit-doc-missing");
 * } catch (e) {
 *   if (!(e instanceof IpcError) || e.code !== "ENOENT") throw e;
 * }
 * ```
 *
 * @module
 */
export { IpcError, type IpcErrorInit } from "./_errors.ts";
export { UnsupportedPlatformError } from "../ffi/platform.ts";
