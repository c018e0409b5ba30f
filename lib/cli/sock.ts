/**
 * `ipckit sock listen|send`: Unix sockets of every type from the shell, like
 * `socat`/`nc -U` with message boundaries, abstract names and peer
 * credentials.
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
import { IpcError, timedOut } from "../_errors.ts";
import { type Command, type Context, EXIT, group, intFlag, parse, UsageError } from "./_common.ts";
import { modeFlag } from "./_posix_common.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Default --message-size of `sock listen`: 1 MiB. */
const LISTEN_MESSAGE_SIZE = 1 << 20;

function socketType(value: unknown): SocketType {
  const t = value === undefined ? "stream" : String(value);
  if (t !== "stream" && t !== "dgram" && t !== "seqpacket") {
    throw new UsageError(`--type must be stream, dgram or seqpacket, got "${t}"`);
  }
  return t;
}

const typeFlags = {
  abstract: { type: "boolean" },
  "pad-abstract": { type: "boolean" },
  type: { type: "string" },
} as const;

/** Prints one received message (a line for streams) as text or a JSON record. */
function emitter(ctx: Context, json: boolean) {
  return async (text: string, creds: Credentials | undefined, fds: number) => {
    if (json) {
      ctx.json({ message: text, pid: creds?.pid, uid: creds?.uid, gid: creds?.gid, fds });
    } else {
      await ctx.write(encoder.encode(text.endsWith("\n") ? text : text + "\n"));
    }
  };
}

const listen: Command = {
  summary: "listen on a socket and print each message received, one per line",
  async run(ctx) {
    const usage =
      "Usage: ipckit sock listen PATH [--abstract] [--type stream|dgram|seqpacket] [--mode 0600]\n" +
      "       [--message-size BYTES] [--count N] [--timeout MS] [--json]\n\n" +
      "Creates a socket at PATH (mode 0600 unless --mode; removed on exit) or, with\n" +
      "--abstract, at an abstract name, and prints what it receives: one line per message\n" +
      "(datagram or seqpacket) or per line of text (stream). Stream and seqpacket\n" +
      "connections are served concurrently. --message-size is the largest message or\n" +
      "chunk accepted (default 1 MiB). --count N exits after N messages; --timeout MS gives\n" +
      "up after MS milliseconds (exit 124) unless they came first. --json prints records\n" +
      '{"message","pid","uid","gid","fds"} with the sender\'s identity (SO_PEERCRED for\n' +
      "connections, SCM_CREDENTIALS for datagrams). Descriptors sent along are closed.";
    const p = parse(
      ctx,
      {
        ...typeFlags,
        count: { type: "string" },
        json: { type: "boolean" },
        mode: { type: "string" },
        timeout: { type: "string" },
        "message-size": { type: "string" },
      },
      usage,
    );
    if (!p) return EXIT.ok;
    if (p.positionals.length !== 1) throw new UsageError(`expected one PATH`);
    const path = p.positionals[0];
    const type = socketType(p.values.type);
    const count = intFlag(p.values.count, "count", { min: 1 });
    const messageSize =
      intFlag(p.values["message-size"], "message-size", { min: 1, max: 1 << 30 }) ??
        LISTEN_MESSAGE_SIZE;
    const mode = modeFlag(p.values.mode, "bind");
    const timeout = intFlag(p.values.timeout, "timeout");
    const end = performance.now() + (timeout ?? Infinity);
    const abstract = Boolean(p.values.abstract);
    const padAbstract = Boolean(p.values["pad-abstract"]);
    const emit = emitter(ctx, Boolean(p.values.json));
    let seen = 0;
    const done = () => count !== undefined && seen >= count;

    if (type === "dgram") {
      using inbox = bindUnix(path, { abstract, padAbstract, mode, passCredentials: true });
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
        await emit(msg.text(), msg.credentials, msg.fds.length);
      }
      return EXIT.ok;
    }

    using server = listenUnix(path, { abstract, padAbstract, type, mode });
    const finished = Promise.withResolvers<void>();
    const connections = new Set<UnixSocket>();
    let stopping = false;
    const serve = async (conn: UnixSocket) => {
      using c = conn;
      connections.add(c);
      const creds = c.peerCredentials();
      let pending = "";
      while (!done()) {
        const msg = await c.receive({ messageSize, maxFds: 253 });
        for (const f of msg.fds) f.close();
        if (msg.end) break;
        if (type === "seqpacket") {
          seen++;
          await emit(msg.text(), creds, msg.fds.length);
          continue;
        }
        pending += decoder.decode(msg.bytes, { stream: true });
        let i;
        while (!done() && (i = pending.indexOf("\n")) >= 0) {
          seen++;
          await emit(pending.slice(0, i), creds, msg.fds.length);
          pending = pending.slice(i + 1);
        }
      }
      if (pending && !done()) {
        seen++;
        await emit(pending, creds, 0);
      }
      if (done()) finished.resolve();
    };
    const acceptLoop = async (l: UnixListener) => {
      for await (const conn of l) {
        // One client's failure (a reset, a message over 1 MiB) ends only its connection.
        serve(conn)
          .catch((e) => stopping || ctx.err(`ipckit: ${(e as Error).message}`))
          .finally(() => connections.delete(conn));
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

const send: Command = {
  summary: "connect to a socket and send messages (arguments, or stdin)",
  async run(ctx) {
    const usage =
      "Usage: ipckit sock send PATH [--abstract] [--type stream|dgram|seqpacket] [--timeout MS] [MESSAGE...]\n\n" +
      "Connects to PATH (or the abstract name) and sends each MESSAGE: one message each\n" +
      "for dgram and seqpacket, one line each for stream. Without MESSAGE, sends stdin:\n" +
      "as is for stream, one message per line for dgram and seqpacket.\n" +
      "--timeout bounds the wait for a busy server (exit 124).";
    const p = parse(ctx, { ...typeFlags, timeout: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    const [path, ...messages] = p.positionals;
    if (path === undefined) throw new UsageError(`expected PATH`);
    const type = socketType(p.values.type);
    const timeout = intFlag(p.values.timeout, "timeout");
    using sock = await connectUnix(path, {
      abstract: Boolean(p.values.abstract),
      padAbstract: Boolean(p.values["pad-abstract"]),
      type,
      timeout,
    });
    if (type === "stream") {
      if (messages.length) {
        await sock.writeAll(encoder.encode(messages.map((m) => m + "\n").join("")), { timeout });
      } else {
        await sock.writeAll(await ctx.readStdin(), { timeout });
      }
      sock.shutdown("write");
      return EXIT.ok;
    }
    if (messages.length) {
      for (const m of messages) await sock.send(encoder.encode(m), { timeout });
    } else {
      for await (const line of ctx.stdinLines()) await sock.send(encoder.encode(line), { timeout });
    }
    return EXIT.ok;
  },
};

/** The `sock` command group. */
export const sockCommand: Command = group("sock", "Unix domain sockets of every type", {
  listen,
  send,
});
