/**
 * Unix domain sockets of every type (`stream`, `dgram`, `seqpacket`), at
 * filesystem paths or abstract names, plus socket pairs: what
 * `Deno.listen({ transport: "unix" })` does not cover. Every socket is
 * non-blocking and close-on-exec; accept, connect, send and receive try once
 * on the JS thread and wait through the shared reactor, with
 * `{ signal, timeout }`. Sends never raise SIGPIPE (`MSG_NOSIGNAL`).
 *
 * @example A seqpacket echo over a socket pair
 * ```ts
 * import { createSocketPair } from "@ipckit/ipckit";
 * const [a, b] = createSocketPair("seqpacket");
 * await a.send(new TextEncoder().encode("ping"));
 * const msg = await b.receive({ timeout: 1000 });
 * console.log(msg.text()); // ping
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */
export { type AddressOptions, MAX_SOCKET_PATH_BYTES, type SocketType } from "./_address.ts";
export type { BindOptions } from "./_bind.ts";
export { type ConnectOptions, connectUnix, createSocketPair } from "./_connect.ts";
export { type SendToOptions, UnixSocket, type UnixSocketOptions } from "./_socket.ts";
export {
  type ReceiveIntoOptions,
  type ReceiveOptions,
  type SendOptions,
  SocketMessage,
  type SocketReceivedInto,
} from "./_socket_message.ts";
export { bindUnix, type ListenOptions, listenUnix, UnixListener } from "./_listener.ts";
export { Message } from "./message.ts";
