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
export {
  Deadline,
  MAX_PARKED,
  SLICE_MS,
  SPIN_MAX_US,
  SPIN_MIN_US,
  Spinner,
  type WaitOptions,
} from "./lib/wait.ts";
export {
  type Fd,
  FdHandle,
  type FdHandleOptions,
  type InheritOptions,
  withInheritedFds,
} from "./lib/fd.ts";
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
  type AddressOptions,
  bindUnix,
  type ConnectOptions,
  connectUnix,
  createSocketPair,
  type ListenOptions,
  listenUnix,
  MAX_SOCKET_PATH_BYTES,
  type ReceivedMessage,
  type ReceiveOptions,
  type SendOptions,
  type SocketType,
  UnixListener,
  UnixSocket,
  type UnixSocketOptions,
} from "./lib/socket.ts";
export {
  type Credentials,
  type FdLike,
  MAX_FDS_PER_MESSAGE,
  openFile,
  receiveFds,
  type ReceiveFdsOptions,
  sendFds,
} from "./lib/fdpass.ts";
export { createEventFd, EventFd, EVENTFD_MAX, type EventFdOptions } from "./lib/eventfd.ts";
export {
  BLOCKED_ENV,
  blockedInEveryThread,
  execWithSignalsBlocked,
  type MaskReport,
  openPidfd,
  Pidfd,
  processGroup,
  realtimeSignalRange,
  type ReceivedSignal,
  type ReceiveMode,
  receiveSignals,
  type ReceiveSignalsOptions,
  sendSignal,
  type SendSignalOptions,
  sendSignalToGroup,
  signalName,
  signalNumber,
  SignalReceiver,
  type SignalSpec,
} from "./lib/signal.ts";
export {
  FileLock,
  type LockConflict,
  LockFile,
  lockFile,
  type LockFileOptions,
  type LockHolder,
  lockHolders,
  type LockKind,
  type LockOptions,
  type LockRequest,
  type OpenLockFileOptions,
  type SingleInstance,
  singleInstance,
  tryLockFile,
  withLock,
} from "./lib/lock.ts";
export { closeOnShutdown, onShutdown, runCleanups } from "./lib/shutdown.ts";
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
export {
  listSysvObjects,
  removeSysvObject,
  sysvIdForKey,
  type SysvKind,
  sysvKinds,
} from "./lib/sysv_inspect.ts";
export {
  Message,
  MessageQueue,
  type MessageQueueAttributes,
  messageQueueLimits,
  type MessageQueueSendOptions,
  openMessageQueue,
  type OpenMessageQueueOptions,
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
