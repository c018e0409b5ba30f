/**
 * `ipckit mq create|send|recv|info|rm`: POSIX message queues from the shell.
 *
 * @module
 */
import { createMessageQueue, openMessageQueue, removeMessageQueue } from "../mqueue.ts";
import { statFd } from "../_stat.ts";
import { userName } from "../_host.ts";
import { type Command, EXIT, group, intFlag, parse, sizeFlag, UsageError } from "./_common.ts";
import { ANY_OWNER, modeFlag, oneName, removeCommand, trustFlag } from "./_posix_common.ts";

const create: Command = {
  summary: "create a queue (or open it if it exists, unless --exclusive)",
  run(ctx) {
    const usage = "Usage: ipckit mq create NAME [--max-messages N] [--message-size BYTES] " +
      '[--mode 0600] [--exclusive]\n\nCreates the POSIX message queue NAME ("/jobs"). ' +
      "Limits: fs.mqueue.msg_max and fs.mqueue.msgsize_max.";
    const p = parse(ctx, {
      "max-messages": { type: "string" },
      "message-size": { type: "string" },
      mode: { type: "string" },
      exclusive: { type: "boolean" },
    }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    const create = {
      maxMessages: intFlag(p.values["max-messages"], "max-messages", { min: 1 }),
      messageSize: sizeFlag(p.values["message-size"], "message-size", { min: 1 }),
      mode: modeFlag(p.values.mode, "mq_open"),
    };
    const q = p.values.exclusive === true
      ? createMessageQueue(name, create)
      : openMessageQueue(name, { create });
    q.close();
    return EXIT.ok;
  },
};

const send: Command = {
  summary: "send MESSAGE arguments, or each stdin line, as messages",
  async run(ctx) {
    const usage = "Usage: ipckit mq send NAME [--priority P] [--timeout MS] [--any-owner] " +
      "[MESSAGE...]\n\nSends each MESSAGE; with none, each line of stdin is one message. " +
      "Waits for room in a full queue; with --timeout, exits 124 if there is none within MS " +
      "milliseconds. --any-owner accepts a queue another user owns or others may write.";
    const p = parse(ctx, {
      priority: { type: "string" },
      timeout: { type: "string" },
      ...ANY_OWNER,
    }, usage);
    if (!p) return EXIT.ok;
    const [name, ...messages] = p.positionals;
    if (name === undefined) throw new UsageError(`expected NAME`);
    const priority = intFlag(p.values.priority, "priority", { max: 32767 });
    const timeout = intFlag(p.values.timeout, "timeout");
    using q = openMessageQueue(name, { access: "write", ...trustFlag(p) });
    if (messages.length > 0) {
      for (const m of messages) await q.send(m, { priority, timeout });
    } else {
      for await (const line of ctx.stdinLines()) await q.send(line, { priority, timeout });
    }
    return EXIT.ok;
  },
};

const recv: Command = {
  summary: "receive messages, one per line",
  async run(ctx) {
    const usage = "Usage: ipckit mq recv NAME [--count N] [--timeout MS] [--json] " +
      "[--any-owner]\n\n" +
      "Receives N messages (default 1), highest priority first, one per line; --json prints " +
      '{"data":…,"priority":…} per line. With --timeout, exits 124 if a message does not ' +
      "arrive within MS milliseconds.";
    const p = parse(ctx, {
      count: { type: "string" },
      timeout: { type: "string" },
      json: { type: "boolean" },
      ...ANY_OWNER,
    }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    const count = intFlag(p.values.count, "count", { min: 1 }) ?? 1;
    const timeout = intFlag(p.values.timeout, "timeout");
    using q = openMessageQueue(name, { access: "read", ...trustFlag(p) });
    for (let i = 0; i < count; i++) {
      const m = await q.receive({ timeout });
      if (p.values.json) ctx.json({ data: m.text(), priority: m.priority });
      else ctx.out(m.text());
    }
    return EXIT.ok;
  },
};

const info: Command = {
  summary: "show a queue's limits, message count, owner and mode",
  run(ctx) {
    const usage = "Usage: ipckit mq info NAME [--json]\n\nPrints the queue's message count, " +
      "limits (--max-messages, --message-size), owner and mode; --json prints one record. " +
      "Any owner's queue can be inspected.";
    const p = parse(ctx, { json: { type: "boolean" } }, usage);
    if (!p) return EXIT.ok;
    const name = oneName(p);
    using q = openMessageQueue(name, { access: "read", trust: "any" });
    const st = statFd(q.fd, name);
    const rec = {
      name,
      ...q.attributes(),
      owner: userName(st.uid),
      uid: st.uid,
      mode: `0${st.mode.toString(8)}`,
    };
    if (p.values.json) ctx.json(rec);
    else {
      ctx.out(
        `${name}: ${rec.currentMessages}/${rec.maxMessages} messages of up to ` +
          `${rec.messageSize} bytes, owner ${rec.owner}, mode ${rec.mode}`,
      );
    }
    return EXIT.ok;
  },
};

const rm = removeCommand("mq", "a queue", removeMessageQueue);

/** The `mq` command group. */
export const mqCommand: Command = group("mq", "POSIX message queues", {
  create,
  send,
  recv,
  info,
  rm,
});
