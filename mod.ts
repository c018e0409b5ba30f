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
  Message,
  MessageQueue,
  type MessageQueueAttributes,
  messageQueueLimits,
  openMessageQueue,
  type OpenMessageQueueOptions,
  type SendOptions,
  unlinkMessageQueue,
} from "./lib/mqueue.ts";
export {
  openSemaphore,
  type OpenSemaphoreOptions,
  type RegionSemaphoreOptions,
  Semaphore,
  SEMAPHORE_NAME_MAX,
  semaphoreInRegion,
  semaphoreSize,
  unlinkSemaphore,
  withSemaphore,
} from "./lib/semaphore.ts";
export {
  createMemfd,
  type CreateMemfdOptions,
  createSharedMemory,
  type CreateSharedMemoryOptions,
  mapSharedMemoryFd,
  openSharedMemory,
  type OpenSharedMemoryOptions,
  SharedMemory,
  unlinkSharedMemory,
} from "./lib/shm.ts";
export { type TrustOptions } from "./lib/_posix.ts";
export {
  type IpcKind,
  type IpcObjectInfo,
  type KindProvider,
  kinds,
  listingNotes,
  listIpcObjects,
  type ListIpcObjectsOptions,
  removeIpcObject,
} from "./lib/inspect.ts";
