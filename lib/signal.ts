/**
 * Signals: send by pid, process group or pidfd (safe against pid reuse),
 * with `sigqueue` values and realtime signals; receive as an async iterator
 * that carries the sender's pid, uid and `sigqueue` value when the kernel
 * provides them.
 *
 * Receiving has two modes, because Deno's runtime is multi-threaded:
 *
 * - **`"listener"`** (`Deno.addSignalListener`): always safe, but only for
 *   the signals Deno accepts (no realtime signals) and without siginfo: no
 *   sender pid, no value.
 * - **`"signalfd"`**: full siginfo and realtime signals, but correct only if
 *   *every* thread of the process blocks the signals (a signal blocked on the
 *   JS thread alone is delivered to another thread and its default action
 *   kills the process). A thread's mask cannot be changed from another
 *   thread, so the process must start with them blocked:
 *   `env --block-signal=USR2 deno run ...`, or a script that calls
 *   {@linkcode execWithSignalsBlocked} first thing. ipckit checks every
 *   thread's `SigBlk` in `/proc/self/task/<tid>/status` and refuses otherwise.
 *
 * ipckit never sets a signal disposition (that silently breaks
 * `Deno.addSignalListener` for good) and never uses SIGUSR1: Deno ≥ 2.9.2
 * opens an unauthenticated inspector on 127.0.0.1:9229 when it receives
 * SIGUSR1, so anyone who can signal the process can debug it. Use SIGUSR2 or
 * a realtime signal.
 *
 * @example Telling a child to reload
 * ```ts
 * import { sendSignal } from "@ipckit/ipckit";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * sendSignal(child.pid, "SIGTERM");
 * console.log((await child.status).signal); // "SIGTERM"
 * ```
 *
 * @module
 */
export { realtimeSignalRange, signalName, signalNumber, type SignalSpec } from "./_signal_names.ts";
export {
  processGroup,
  sendSignal,
  type SendSignalOptions,
  sendSignalToGroup,
} from "./_signal_send.ts";
export { openPidfd, Pidfd } from "./_pidfd.ts";
export {
  BLOCKED_ENV,
  blockedInEveryThread,
  execWithSignalsBlocked,
  type MaskReport,
} from "./_signal_mask.ts";
export {
  type ReceivedSignal,
  type ReceiveMode,
  receiveSignals,
  type ReceiveSignalsOptions,
  SignalReceiver,
} from "./_signal_receiver.ts";
