/**
 * `ipckit channel create|send|receive|stat|ls|rm`: channels (shared-memory
 * message rings) from the shell.
 *
 * @module
 */
import { openChannel, removeChannel } from "../channel.ts";
import { createShmChannel } from "../_channel_open.ts";
import { listChannels, statChannel } from "../_channel_inspect.ts";
import { type Command, EXIT, group, intFlag, parse, sizeFlag, UsageError } from "./_common.ts";
import { modeFlag, removeCommand } from "./_posix_common.ts";
import type { Parsed } from "./_common.ts";

function oneName(p: Parsed): string {
  if (p.positionals.length !== 1) throw new UsageError("expected one NAME");
  return p.positionals[0];
}

const create: Command = {
  summary: "create a channel (fails if the name exists)",
  run(ctx) {
    const usage = "Usage: ipckit channel create NAME [--max-messages N] [--message-size BYTES] " +
      '[--mode 0600]\n\nCreates the channel NAME ("/jobs"): a ring of N slots (a power of ' +
      "two, default 1024) of up to BYTES each (default 1024) in POSIX shared memory.";
    const p = parse(ctx, {
      "max-messages": { type: "string" },
      "message-size": { type: "string" },
      mode: { type: "string" },
    }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    // No end is attached: a receiver started next waits instead of finding the sender closed.
    const memory = createShmChannel(name, {
      capacity: intFlag(p.values["max-messages"], "max-messages", { min: 2 }),
      messageSize: sizeFlag(p.values["message-size"], "message-size", { min: 1 }),
    }, modeFlag(p.values.mode, "shm_open"));
    memory.mapping.unmap();
    memory.descriptor.close();
    return EXIT.ok;
  },
};

const send: Command = {
  summary: "send MESSAGE arguments, or each stdin line, as messages",
  async run(ctx) {
    const usage = "Usage: ipckit channel send NAME [--timeout MS] [--any-owner] [MESSAGE...]\n\n" +
      "Attaches as the sender and sends each MESSAGE; with none, each line of stdin is one " +
      "message. Waits for room in a full ring; with --timeout, exits 124 if there is none " +
      "within MS milliseconds.";
    const p = parse(ctx, { timeout: { type: "string" }, "any-owner": { type: "boolean" } }, usage);
    if (!p) return EXIT.ok;
    const [name, ...messages] = p.positionals;
    if (name === undefined) throw new UsageError("expected NAME");
    const timeout = intFlag(p.values.timeout, "timeout");
    using tx = openChannel(name, "send", { trust: p.values["any-owner"] ? "any" : "owner" });
    if (messages.length > 0) {
      for (const m of messages) await tx.send(m, { timeout });
    } else {
      for await (const line of ctx.stdinLines()) await tx.send(line, { timeout });
    }
    return EXIT.ok;
  },
};

const receive: Command = {
  summary: "receive messages, one per line",
  async run(ctx) {
    const usage = "Usage: ipckit channel receive NAME [--count N] [--timeout MS] [--json] " +
      "[--any-owner]\n\nAttaches as the receiver and prints N messages (default 1), one per " +
      'line; --json prints {"data":…} per line. With --timeout, exits 124 if a message does ' +
      "not arrive within MS milliseconds.";
    const p = parse(ctx, {
      count: { type: "string" },
      timeout: { type: "string" },
      json: { type: "boolean" },
      "any-owner": { type: "boolean" },
    }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    const count = intFlag(p.values.count, "count", { min: 1 }) ?? 1;
    const timeout = intFlag(p.values.timeout, "timeout");
    using rx = openChannel(name, "receive", { trust: p.values["any-owner"] ? "any" : "owner" });
    for (let i = 0; i < count; i++) {
      const m = await rx.receive({ timeout });
      if (p.values.json) ctx.json({ data: m.text() });
      else ctx.out(m.text());
    }
    return EXIT.ok;
  },
};

const stat: Command = {
  summary: "show a channel's capacity, fill, positions, peers and waiters",
  run(ctx) {
    const usage = "Usage: ipckit channel stat NAME [--json] [--any-owner]\n\nPrints the " +
      "channel's capacity, messages waiting, positions, and each end's pid, whether it runs, " +
      "sleeps or has closed. Attaches no end.";
    const p = parse(ctx, { json: { type: "boolean" }, "any-owner": { type: "boolean" } }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    const s = statChannel(name, { trust: p.values["any-owner"] ? "any" : "owner" });
    if (p.values.json) {
      ctx.json({ name, ...s });
      return EXIT.ok;
    }
    const peer = (pid: number, alive: boolean, closed: boolean, waiting: boolean) =>
      pid === 0
        ? closed ? "closed" : "none"
        : `pid ${pid}${alive ? "" : " (gone)"}${waiting ? ", waiting" : ""}`;
    ctx.out(`${name}: ${s.fill}/${s.capacity} messages of up to ${s.messageSize} bytes`);
    ctx.out(`  positions: tail ${s.tail}, head ${s.head}`);
    ctx.out(`  sender:   ${peer(s.senderPid, s.senderAlive, s.senderClosed, s.senderWaiting)}`);
    ctx.out(
      `  receiver: ${peer(s.receiverPid, s.receiverAlive, s.receiverClosed, s.receiverWaiting)}`,
    );
    return EXIT.ok;
  },
};

const ls: Command = {
  summary: "list the channels in /dev/shm",
  run(ctx) {
    const usage = "Usage: ipckit channel ls [--json]\n\nLists the channels in /dev/shm " +
      "this user can read, with their fill, owner, mode and the pids of both ends.";
    const p = parse(ctx, { json: { type: "boolean" } }, usage, { allowPositionals: false });
    if (!p) return EXIT.ok;
    for (const c of listChannels()) {
      if (p.values.json) ctx.json({ ...c, mode: `0${c.mode.toString(8)}` });
      else {
        ctx.out(
          `${c.name}  ${c.messages}/${c.capacity} × ${c.messageSize} B  owner ${c.owner}  ` +
            `mode 0${c.mode.toString(8)}  sender ${c.senderPid || "-"}  receiver ${
              c.receiverPid || "-"
            }`,
        );
      }
    }
    return EXIT.ok;
  },
};

const rm = removeCommand("channel", "a channel", removeChannel);

/** The `channel` command group. */
export const channelCommand: Command = group("channel", "shared-memory message channels", {
  create,
  send,
  receive,
  stat,
  ls,
  rm,
});
