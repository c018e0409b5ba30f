/**
 * ipckit: every Linux IPC mechanism for Deno scripts, through libc.
 *
 * Needs `--allow-ffi` (which in practice grants everything the C library can
 * do: say so to whoever runs your script).
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
export { type CallContext, IpcError, type IpcErrorInit } from "./lib/errors.ts";
export { UnsupportedPlatformError } from "./ffi/platform.ts";
export { Deadline, MAX_PARKED, SLICE_MS, type WaitOptions } from "./lib/wait.ts";
export { type Fd, FdHandle, type FdHandleOptions, withInheritedFds } from "./lib/fd.ts";
export {
  createPipe,
  type Pipe,
  pipeCapacity,
  type PipeOptions,
  setPipeCapacity,
} from "./lib/pipe.ts";
export {
  type FifoEnd,
  makeFifo,
  type MakeFifoOptions,
  openFifo,
  removeFifo,
  tryOpenFifoWriter,
} from "./lib/fifo.ts";
export { type StatInfo } from "./lib/_stat.ts";
export {
  type SysvCreateCommon,
  type SysvLimits,
  sysvLimits,
  SysvObject,
  type SysvOpenCommon,
  type SysvOpenOptions,
  type SysvPerm,
  type SysvTarget,
  type SysvTrust,
} from "./lib/_sysv.ts";
export { formatSysvKey, ftok, IPC_PRIVATE, parseSysvKey } from "./lib/sysv_key.ts";
export {
  createSysvMessageQueue,
  type CreateSysvMessageQueueOptions,
  openSysvMessageQueue,
  type SysvMessage,
  SysvMessageQueue,
  type SysvMsgSetOptions,
  type SysvMsgStat,
  type SysvReceivedInto,
  type SysvReceiveOptions,
  type SysvReceiveSelect,
  type SysvSendOptions,
} from "./lib/sysv_msg.ts";
export {
  createSysvSemaphoreSet,
  type CreateSysvSemaphoreSetOptions,
  openSysvSemaphoreSet,
  SEMVMX,
  type SysvAcquireOptions,
  SysvSemaphoreSet,
  type SysvSemOp,
  type SysvSemSetOptions,
  type SysvSemStat,
} from "./lib/sysv_sem.ts";
export {
  createSysvSharedMemory,
  type CreateSysvSharedMemoryOptions,
  openSysvSharedMemory,
  type SysvAttachOptions,
  SysvSharedMemory,
  type SysvShmAttachment,
  type SysvShmSetOptions,
  type SysvShmStat,
} from "./lib/sysv_shm.ts";
export type { IpcKind, IpcObjectInfo, KindProvider } from "./lib/_inspect.ts";
export {
  listSysvObjects,
  removeSysvObject,
  sysvIdForKey,
  type SysvKind,
  sysvKinds,
} from "./lib/sysv_inspect.ts";
