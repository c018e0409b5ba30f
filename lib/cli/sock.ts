/**
 * `ipckit sock listen|send|connect`: Unix sockets of every type from the
 * shell, like `socat`/`nc -U` with message boundaries, abstract names and
 * peer credentials. Streams are copied in bounded chunks, never buffered
 * whole; the socket file is removed on every exit, Ctrl-C and SIGTERM
 * included.
 *
 * @module
 */
import {
  bindUnix,
  connectUnix,
  listenUnix,
  type SocketType,
  type UnixListener,
  type UnixSocket,
} from "../socket.ts";
import type { Credentials } from "../fdpass.ts";
import { closeOnShutdown, onShutdown } from "../shutdown.ts";
import { IpcError, timedOut } from "../_errors.ts";
import {
  type Command,
  type Context,
  EXIT,
  group,
  intFlag,
  parse,
  sizeFlag,
  trustFlag,
  UsageError,
} from "./_common.ts";
import { modeFlag } from "./_posix_common.ts";
import {
  addressFlags,
  CHUNK,
  LineSplitter,
  messagesToStdout,
  socketType,
  stdinToMessages,
  stdinToStream,
  streamToStdout,
  withNewline,
} from "./_sock_io.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Default --message-size of `sock listen`: 1 MiB. */
const LISTEN_MESSAGE_SIZE = 1 << 20;
/** How long `sock connect` keeps printing datagram replies after stdin ends (socat's -t). */
const DGRAM_LINGER_MS = 500;

function addressOptions(values: Record<string, unknown>) {
  return {
    abstract: Boolean(values.abstract),
    padAbstract: Boolean(values["pad-abstract"]),
  };
}

/** Prints one received message (a line for streams) as text or a JSON record. */
function emitter(ctx: Context, json: boolean) {
  return async (bytes: Uint8Array, creds: Credentials | undefined, fds: number) => {
    if (json) {
      const message = decoder.decode(bytes);
      ctx.json({ message, pid: creds?.pid, uid: creds?.uid, gid: creds?.gid, fds });
    } else {
      await ctx.write(withNewline(bytes));
    }
  };
}

const listenUsage =
  "Usage: ipckit sock listen ADDRESS [--type stream|dgram|seqpacket] [--mode 0600] [--once]\n" +
  "       [--count N] [--timeout MS] [--message-size BYTES] [--json] [--any-owner]\n" +
  "       [--abstract] [--pad-abstract]\n\n" +
  "Creates a socket at ADDRESS, a path (mode 0600 unless --mode) or @name (abstract), and\n" +
  "prints what it receives. A stream is copied to stdout as it comes (like socat -u\n" +
  "UNIX-LISTEN:ADDRESS -); datagram and seqpacket messages are printed one per line.\n" +
  "Connections are served concurrently; --once serves one connection (or one datagram)\n" +
  "and exits. --count N exits after N messages (lines, on a stream); --timeout MS gives up\n" +
  'after MS milliseconds (exit 124). --json prints records {"message","pid","uid",\n' +
  '"gid","fds"} with the sender\'s identity (SO_PEERCRED for connections, SCM_CREDENTIALS\n' +
  "for datagrams). --message-size is the largest message accepted (default 1 MiB); a\n" +
  "longer datagram is reported on stderr and skipped. Descriptors sent along are closed.\n" +
  "The socket file is removed on exit, Ctrl-C and SIGTERM included. --any-owner lets a\n" +
  "stale socket file of another user be replaced. --pad-abstract uses Node's (libuv's)\n" +
  "NUL-padded abstract names.";

const listen: Command = {
  summary: "listen on a socket and print what it receives",
  async run(ctx) {
    const p = parse(
      ctx,
      {
        ...addressFlags,
        count: { type: "string" },
        once: { type: "boolean" },
        json: { type: "boolean" },
        mode: { type: "string" },
        timeout: { type: "string" },
        "message-size": { type: "string" },
        "any-owner": { type: "boolean" },
      },
      listenUsage,
    );
    if (!p) return EXIT.ok;
    if (p.positionals.length !== 1) throw new UsageError(`expected one ADDRESS`);
    const path = p.positionals[0];
    const type = socketType(p.values.type);
    const once = Boolean(p.values.once);
    const count = once && type === "dgram" ? 1 : intFlag(p.values.count, "count", { min: 1 });
    const messageSize = messageSizeFlag(p.values["message-size"]);
    const mode = modeFlag(p.values.mode, "bind");
    const timeout = intFlag(p.values.timeout, "timeout");
    const json = Boolean(p.values.json);
    const options = { ...addressOptions(p.values), ...trustFlag(p.values["any-owner"]), mode };
    const emit = emitter(ctx, json);
    let seen = 0;
    const done = () => count !== undefined && seen >= count;

    // The cleanup is registered before the socket file exists: a signal that comes
    // right after bind (handled on a later turn of the event loop) still removes it.
    let made: { close(): void } | undefined;
    using _cleanup = onShutdown(() => made?.close());
    if (type === "dgram") {
      using inbox = made = bindUnix(path, { ...options, passCredentials: true });
      const end = performance.now() + (timeout ?? Infinity);
      while (!done()) {
        let msg;
        try {
          const timeLeft = Math.max(0, end - performance.now());
          msg = await inbox.receive({ messageSize, maxFds: 253, timeout: timeLeft });
        } catch (e) {
          // One sender's oversized datagram (discarded by the kernel) does not stop the listener.
          if (!(e instanceof IpcError) || e.code !== "EMSGSIZE") throw e;
          ctx.err(`ipckit: ${e.message}`);
          continue;
        }
        for (const f of msg.fds) f.close();
        seen++;
        await emit(msg.bytes, msg.credentials, msg.fds.length);
      }
      return EXIT.ok;
    }

    using server = made = listenUnix(path, { ...options, type });
    // A stream with nothing to count is copied as it is: no line splitting, no decoding.
    const raw = type === "stream" && !json && count === undefined;
    const finished = Promise.withResolvers<void>();
    const connections = new Set<UnixSocket>();
    let stopping = false;
    const serve = async (c: UnixSocket) => {
      if (raw) return await streamToStdout(ctx, c, new Uint8Array(CHUNK));
      const creds = c.peerCredentials();
      const lines = new LineSplitter();
      const buf = new Uint8Array(type === "stream" ? CHUNK : messageSize);
      while (!done()) {
        const got = await c.receiveInto(buf, { maxFds: 253 });
        for (const f of got.fds) f.close();
        if (got.end) break;
        const bytes = buf.subarray(0, got.length);
        for (const line of type === "seqpacket" ? [bytes] : lines.push(bytes)) {
          if (done()) break;
          seen++;
          await emit(line, creds, got.fds.length);
        }
      }
      const rest = lines.rest();
      if (rest && !done()) {
        seen++;
        await emit(rest, creds, 0);
      }
    };
    const track = (conn: UnixSocket) => {
      connections.add(conn);
      return serve(conn).finally(() => {
        connections.delete(conn);
        conn.close();
        if (done()) finished.resolve();
      });
    };
    const acceptLoop = async (l: UnixListener) => {
      if (once) {
        await track(await l.accept());
        return finished.resolve();
      }
      for await (const conn of l) {
        // One client's failure (a reset, a message over --message-size) ends only its connection.
        track(conn).catch((e) => stopping || ctx.err(`ipckit: ${(e as Error).message}`));
      }
    };
    acceptLoop(server).catch(finished.reject);
    const timer = timeout === undefined
      ? undefined
      : setTimeout(() => finished.reject(timedOut("accept4", server.address, timeout)), timeout);
    try {
      await finished.promise;
    } finally {
      clearTimeout(timer);
      // Connections still open (other clients, or all of them on timeout) end with the listener.
      stopping = true;
      for (const c of connections) c.close();
    }
    return EXIT.ok;
  },
};

/** Parses the flags `send` and `connect` share. */
function connectFrom(
  ctx: Context,
  usage: string,
  extra: Record<string, { type: "string" | "boolean" }> = {},
) {
  const p = parse(
    ctx,
    { ...addressFlags, timeout: { type: "string" }, bind: { type: "string" }, ...extra },
    usage,
  );
  if (!p) return null;
  const [path, ...messages] = p.positionals;
  if (path === undefined) throw new UsageError(`expected ADDRESS`);
  const type: SocketType = socketType(p.values.type);
  const timeout = intFlag(p.values.timeout, "timeout");
  const bind = p.values.bind === undefined ? undefined : String(p.values.bind);
  return { p, path, messages, type, timeout, bind };
}

/** `--message-size` of `listen` and `connect`: a size (4K, 1MiB...), default LISTEN_MESSAGE_SIZE. */
function messageSizeFlag(value: unknown): number {
  return sizeFlag(value, "message-size", { min: 1, max: 1 << 30 }) ?? LISTEN_MESSAGE_SIZE;
}

const send: Command = {
  summary: "connect to a socket and send messages (arguments, or stdin)",
  async run(ctx) {
    const usage =
      "Usage: ipckit sock send ADDRESS [--type stream|dgram|seqpacket] [--timeout MS]\n" +
      "       [--bind ADDRESS] [--abstract] [--pad-abstract] [MESSAGE...]\n\n" +
      "Connects to ADDRESS (a path or @name) and sends each MESSAGE: one message each for\n" +
      "dgram and seqpacket, one line each for stream. Without MESSAGE it sends stdin as it\n" +
      "comes: copied as is to a stream (never read whole first), one message per line\n" +
      "otherwise. --bind gives the client its own address (a datagram server can answer\n" +
      "it); 'ipckit sock connect' also prints the answers. --timeout bounds the wait for a\n" +
      "busy server (exit 124).";
    const a = connectFrom(ctx, usage);
    if (!a) return EXIT.ok;
    const { p, path, messages, type, timeout, bind } = a;
    using sock = await connectUnix(path, { ...addressOptions(p.values), type, timeout, bind });
    if (type === "stream") {
      if (messages.length) {
        await sock.writeAll(encoder.encode(messages.map((m) => m + "\n").join("")), { timeout });
        sock.shutdown("write");
      } else {
        await stdinToStream(ctx, sock, timeout);
      }
      return EXIT.ok;
    }
    if (messages.length) {
      for (const m of messages) await sock.send(encoder.encode(m), { timeout });
    } else {
      await stdinToMessages(ctx, sock, timeout);
    }
    return EXIT.ok;
  },
};

const connect: Command = {
  summary: "connect stdin and stdout to a socket, both ways (like socat - UNIX-CONNECT:)",
  async run(ctx) {
    const usage =
      "Usage: ipckit sock connect ADDRESS [--type stream|dgram|seqpacket] [--timeout MS]\n" +
      "       [--bind ADDRESS] [--message-size BYTES] [--abstract] [--pad-abstract]\n\n" +
      "Connects to ADDRESS (a path or @name) and copies stdin to the socket and the socket\n" +
      "to stdout at the same time, like 'socat - UNIX-CONNECT:ADDRESS'. On a stream, the end\n" +
      "of stdin shuts down writing and it exits when the peer ends. On dgram and seqpacket\n" +
      "sockets each line of stdin is one message and each message received is printed as\n" +
      "one line; a datagram client binds an address the kernel picks (or --bind) so the\n" +
      "server can answer, and after the end of stdin it prints answers for another 0.5 s.\n" +
      "--timeout bounds the connect (exit 124).";
    const a = connectFrom(ctx, usage, { "message-size": { type: "string" } });
    if (!a) return EXIT.ok;
    const { p, path, type, timeout } = a;
    if (a.messages.length) throw new UsageError("connect takes no MESSAGE: it reads stdin");
    const messageSize = messageSizeFlag(p.values["message-size"]);
    const bind = a.bind ?? (type === "dgram" ? true : undefined);
    using sock = await connectUnix(path, { ...addressOptions(p.values), type, timeout, bind });
    using _cleanup = closeOnShutdown(sock);
    if (type === "stream") {
      // Once the peer ends, what stdin still holds has nowhere to go: a
      // failed write (EPIPE) then is not an error. Handled from the start, so
      // a write that fails while the reading side still runs cannot become an
      // unhandled rejection that kills the process.
      stdinToStream(ctx, sock).catch(() => {});
      await streamToStdout(ctx, sock, new Uint8Array(CHUNK));
      return EXIT.ok;
    }
    const reading = messagesToStdout(ctx, sock, messageSize);
    const writing = stdinToMessages(ctx, sock).then(() =>
      type === "dgram" ? new Promise((r) => setTimeout(r, DGRAM_LINGER_MS)) : reading
    );
    // Whichever side loses the race may still fail afterwards: never unhandled.
    reading.catch(() => {});
    writing.catch(() => {});
    await Promise.race([reading, writing]);
    return EXIT.ok;
  },
};

/** The `sock` command group. */
export const sockCommand: Command = group("sock", "Unix domain sockets of every type", {
  listen,
  send,
  connect,
});
