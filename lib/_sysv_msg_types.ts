/**
 * The public shapes of System V message queues: the received message, the
 * send and receive options, and what `IPC_STAT` reports. Re-exported by
 * `lib/sysv_msg.ts`.
 *
 * @module
 */
import { getField, off } from "../ffi/struct.ts";
import { sysvLayout } from "../ffi/sysv.ts";
import { Message } from "./message.ts";
import type { WaitOptions } from "./wait.ts";
import type { SysvCreateCommon } from "./_sysv_open.ts";
import { decodePerm, type SysvPerm, timeField } from "./_sysv_perm.ts";

/**
 * A message received from a System V queue: its bytes and its `type`.
 *
 * @example The type travels with the message
 * ```ts
 * import { createSysvMessageQueue } from "@ipckit/ipckit";
 * using q = createSysvMessageQueue({ removeOnClose: true });
 * q.trySend("job", { type: 3 });
 * const m = q.tryReceive()!;
 * console.log(m.type, m.text(), m.bytes.length); // 3 job 3
 * ```
 */
export class SysvMessage extends Message {
  /** Its type (>= 1). */
  readonly type: number;

  /** Wraps a received payload and its type. */
  constructor(bytes: Uint8Array<ArrayBuffer>, type: number) {
    super(bytes);
    this.type = type;
  }
}

/** What `SysvMessageQueue.receiveInto` reports. */
export interface SysvReceivedInto {
  /** Bytes copied into the buffer. */
  length: number;
  /** The message's type. */
  type: number;
}

/** Options for `SysvMessageQueue.send`. */
export interface SysvSendOptions extends WaitOptions {
  /** Message type, an integer >= 1. Default `1`. */
  type?: number;
}

/** Which message to take, for `SysvMessageQueue.receive`. */
export interface SysvReceiveSelect {
  /**
   * `0` (default): the first message. `T > 0`: the first message of type `T`
   * (or, with `except`, of any other type). `T < 0`: the first message of
   * the lowest type that is `<= -T` (a priority queue).
   */
  type?: number;
  /** With `type > 0`: take the first message whose type is NOT `type` (`MSG_EXCEPT`). */
  except?: boolean;
  /**
   * Largest message accepted, in bytes. Default `kernel.msgmax` (so every
   * message fits). A larger message stays queued and the call throws E2BIG.
   */
  messageSize?: number;
  /**
   * Accept a message longer than `messageSize` by cutting it (`MSG_NOERROR`):
   * the rest is lost. Default `false`.
   */
  truncate?: boolean;
}

/** Options for `SysvMessageQueue.receive`. */
export interface SysvReceiveOptions extends SysvReceiveSelect, WaitOptions {}

/** What `IPC_STAT` reports about a queue. */
export interface SysvMsgStat {
  /** Owner, creator and permissions. */
  perm: SysvPerm;
  /** Last `msgsnd`, or `null`. */
  sendTime: Date | null;
  /** Last `msgrcv`, or `null`. */
  receiveTime: Date | null;
  /** Creation or last `IPC_SET`. */
  changeTime: Date | null;
  /** Bytes queued. */
  bytes: number;
  /** Messages queued. */
  messages: number;
  /** Capacity in bytes (`msg_qbytes`); also the most messages it can hold. */
  queueBytes: number;
  /** Pid of the last sender (0 if none). */
  lastSendPid: number;
  /** Pid of the last receiver (0 if none). */
  lastReceivePid: number;
}

/** Changes for `SysvMessageQueue.set` (`IPC_SET`). */
export interface SysvMsgSetOptions {
  /** New owner uid. */
  uid?: number;
  /** New owner gid. */
  gid?: number;
  /** New permission bits (0 to 0o777). */
  mode?: number;
  /** New capacity in bytes; above `kernel.msgmnb` needs CAP_SYS_RESOURCE. */
  queueBytes?: number;
}

/** Options for `createSysvMessageQueue`. */
export interface CreateSysvMessageQueueOptions extends SysvCreateCommon {
  /** Capacity in bytes (`msg_qbytes`). Default `kernel.msgmnb`. */
  queueBytes?: number;
}

/** Decodes a `msqid_ds`. */
export function decodeMsqid(v: DataView): SysvMsgStat {
  const L = sysvLayout().msqid_ds;
  return {
    perm: decodePerm(v, off(L, "msg_perm")),
    sendTime: timeField(v, L, "msg_stime"),
    receiveTime: timeField(v, L, "msg_rtime"),
    changeTime: timeField(v, L, "msg_ctime"),
    bytes: getField(v, L, "msg_cbytes"),
    messages: getField(v, L, "msg_qnum"),
    queueBytes: getField(v, L, "msg_qbytes"),
    lastSendPid: getField(v, L, "msg_lspid", true),
    lastReceivePid: getField(v, L, "msg_lrpid", true),
  };
}
