/**
 * `ipckit sysv ...`: System V message queues, semaphore sets and shared
 * memory from the shell, `mk` (like ipcmk) and `info` (one object's record,
 * as `ipckit ls --json` prints it). Listing and removal are the top-level
 * `ipckit ls` / `ipckit rm` (`ls.ts`, `rm.ts`).
 *
 * @module
 */
import {
  createSysvMessageQueue,
  openSysvMessageQueue,
  type SysvMessage,
  type SysvMessageQueue,
} from "../sysv_msg.ts";
import {
  createSysvSemaphoreSet,
  openSysvSemaphoreSet,
  type SysvSemaphoreSet,
  type SysvSemOp,
} from "../sysv_sem.ts";
import {
  createSysvSharedMemory,
  openSysvSharedMemory,
  type SysvSharedMemory,
} from "../sysv_shm.ts";
import { listSysvObjects, sysvIdForKey, type SysvKind } from "../sysv_inspect.ts";
import { ipcError } from "../_errors.ts";
import { objectRecord } from "./_record.ts";
import { KIND_ALIASES, printable } from "./ls.ts";
import { parseSysvKey } from "../sysv_key.ts";
import type { SysvTarget } from "../_sysv_open.ts";
import type { TrustOptions } from "../_trust.ts";
import { parseMode } from "../_validate.ts";
import { type Command, EXIT, group, intFlag, parse, sizeFlag, UsageError } from "./_common.ts";

const KINDS: SysvKind[] = ["sysv-msg", "sysv-sem", "sysv-shm"];

const target = {
  key: { type: "string" },
  id: { type: "string" },
  "any-owner": { type: "boolean" },
} as const;

const targetHelp = "  --key KEY      the object's key (0x1234abcd or decimal)\n" +
  "  --id ID        the object's id (as ipcs shows it)\n" +
  "  --any-owner    skip the check that this user owns and created it and that\n" +
  "                 group/others cannot write it";

function keyFlag(text: string): number {
  try {
    return parseSysvKey(text);
  } catch (e) {
    throw new UsageError(`--key: ${(e as Error).message}`);
  }
}

/** A positional integer argument (`INDEX`, `VALUE`), named as such in errors. */
function intArg(text: string, name: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer between ${min} and ${max}, got "${text}"`);
  }
  return n;
}

function openTarget(values: Record<string, unknown>): SysvTarget & TrustOptions {
  const { key, id } = values;
  if ((key === undefined) === (id === undefined)) {
    throw new UsageError(`pass exactly one of --key and --id`);
  }
  const trust = values["any-owner"] ? "any" as const : "owner" as const;
  return key !== undefined
    ? { key: keyFlag(String(key)), trust }
    : { id: intFlag(id, "id", { max: 0x7fffffff })!, trust };
}

function typeFlag(v: unknown, min: number): number | undefined {
  return intFlag(v, "type", { min, max: Number.MAX_SAFE_INTEGER });
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function messageRecord(m: SysvMessage): Record<string, unknown> {
  try {
    return { type: m.type, size: m.bytes.byteLength, text: decoder.decode(m.bytes) };
  } catch {
    let bin = "";
    for (const b of m.bytes) bin += String.fromCharCode(b);
    return { type: m.type, size: m.bytes.byteLength, base64: btoa(bin) };
  }
}

const msgSend: Command = {
  summary: "send messages (each MESSAGE, or all of stdin as one)",
  async run(ctx) {
    const usage = "Usage: ipckit sysv msg send (--key KEY | --id ID) [--type T] " +
      "[--timeout MS] [MESSAGE...]\n\nSends each MESSAGE as one message of type T " +
      "(default 1); with no MESSAGE, sends all of stdin as one message. Waits while " +
      "the queue is full (exit 124 after --timeout).\n\n" + targetHelp;
    const p = parse(
      ctx,
      { ...target, type: { type: "string" }, timeout: { type: "string" } },
      usage,
    );
    if (!p) return EXIT.ok;
    const type = typeFlag(p.values.type, 1) ?? 1;
    const timeout = intFlag(p.values.timeout, "timeout");
    using q = openSysvMessageQueue(openTarget(p.values));
    const messages: (string | Uint8Array)[] = p.positionals.length
      ? p.positionals
      : [await ctx.readStdin()];
    for (const m of messages) await q.send(m, { type, timeout });
    return EXIT.ok;
  },
};

const msgRecv: Command = {
  summary: "receive messages to stdout",
  async run(ctx) {
    const usage = "Usage: ipckit sysv msg recv (--key KEY | --id ID) [--type T] [--except] " +
      "[--count N] [--timeout MS] [--message-size N] [--json]\n\n" +
      "Receives N messages (default 1) and writes each one's bytes and a newline, or\n" +
      'with --json one record per line: {"type":1,"size":5,"text":"hello"} ("base64"\n' +
      'instead of "text" for bytes that are not UTF-8). --type 0 (default) takes the\n' +
      "first message, T > 0 the first of type T (with --except: of any other type),\n" +
      "T < 0 the lowest type <= -T. --timeout applies to each message (exit 124).\n" +
      "--message-size N refuses (E2BIG, the message stays queued) a message over N bytes.\n\n" +
      targetHelp;
    const p = parse(
      ctx,
      {
        ...target,
        type: { type: "string" },
        except: { type: "boolean" },
        count: { type: "string" },
        timeout: { type: "string" },
        "message-size": { type: "string" },
        json: { type: "boolean" },
      },
      usage,
      { allowPositionals: false },
    );
    if (!p) return EXIT.ok;
    const type = typeFlag(p.values.type, Number.MIN_SAFE_INTEGER) ?? 0;
    if (p.values.except && type <= 0) throw new UsageError("--except needs --type T with T > 0");
    const count = intFlag(p.values.count, "count", { min: 1 }) ?? 1;
    const timeout = intFlag(p.values.timeout, "timeout");
    const messageSize = sizeFlag(p.values["message-size"], "message-size");
    using q = openSysvMessageQueue(openTarget(p.values));
    for (let i = 0; i < count; i++) {
      const m = await q.receive({ type, except: !!p.values.except, timeout, messageSize });
      if (p.values.json) ctx.json(messageRecord(m));
      else {
        await ctx.write(m.bytes);
        await ctx.write(new Uint8Array([10]));
      }
    }
    return EXIT.ok;
  },
};

/** Parses `0:-1`, `1:+1`, `2:0`, each optionally suffixed `:undo`; a bare `undo` applies to all. */
export function parseSemOps(tokens: string[]): SysvSemOp[] {
  const all = tokens.includes("undo");
  const ops = tokens.filter((t) => t !== "undo").map((t) => {
    const m = /^(\d+):([+-]?\d+)(:undo)?$/.exec(t);
    if (!m) {
      throw new UsageError(`bad operation "${t}": write INDEX:DELTA like 0:-1, 1:+1 or 2:0`);
    }
    return { index: Number(m[1]), delta: Number(m[2]), undo: all || m[3] !== undefined };
  });
  if (ops.length === 0) throw new UsageError("pass at least one operation, like 0:-1");
  return ops;
}

const semOp: Command = {
  summary: "apply operations atomically, waiting until they can be",
  async run(ctx) {
    const usage = "Usage: ipckit sysv sem op (--key KEY | --id ID) [--timeout MS] OPS...\n\n" +
      "OPS are INDEX:DELTA (0:-1 takes one from semaphore 0, 1:+1 adds one to semaphore 1,\n" +
      "2:0 waits until semaphore 2 is zero), all applied at once. Add :undo to an op, or\n" +
      "the word undo for all of them, for SEM_UNDO (reverted when this command exits).\n\n" +
      targetHelp;
    const p = parse(ctx, { ...target, timeout: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    const ops = parseSemOps(p.positionals);
    const timeout = intFlag(p.values.timeout, "timeout");
    using s = openSysvSemaphoreSet(openTarget(p.values));
    await s.op(ops, { timeout });
    return EXIT.ok;
  },
};

function semRecord(s: SysvSemaphoreSet, index: number) {
  return {
    index,
    value: s.value(index),
    pid: s.lastPid(index),
    ncnt: s.increaseWaiters(index),
    zcnt: s.zeroWaiters(index),
  };
}

const semGet: Command = {
  summary: "print values (GETVAL/GETALL, with GETPID/GETNCNT/GETZCNT)",
  run(ctx) {
    const usage = "Usage: ipckit sysv sem get (--key KEY | --id ID) [INDEX] [--json]\n\n" +
      "With INDEX prints that semaphore's value; without, one line per semaphore:\n" +
      "INDEX VALUE PID NCNT ZCNT. --json prints records with those fields.\n\n" + targetHelp;
    const p = parse(ctx, { ...target, json: { type: "boolean" } }, usage);
    if (!p) return EXIT.ok;
    if (p.positionals.length > 1) throw new UsageError(`at most one INDEX`);
    using s = openSysvSemaphoreSet(openTarget(p.values));
    const one = p.positionals.length === 1
      ? intArg(p.positionals[0], "INDEX", { max: s.count - 1 })
      : undefined;
    const indexes = one === undefined ? [...Array(s.count).keys()] : [one];
    for (const i of indexes) {
      const r = semRecord(s, i);
      if (p.values.json) ctx.json(r);
      else if (one !== undefined) ctx.out(String(r.value));
      else ctx.out(`${r.index} ${r.value} ${r.pid} ${r.ncnt} ${r.zcnt}`);
    }
    return EXIT.ok;
  },
};

const semSet: Command = {
  summary: "set values (SETVAL, or SETALL with --all)",
  run(ctx) {
    const usage = "Usage: ipckit sysv sem set (--key KEY | --id ID) INDEX VALUE\n" +
      "       ipckit sysv sem set (--key KEY | --id ID) --all VALUE...\n\n" +
      "Sets one semaphore, or (--all) every semaphore in index order. Values are 0 to\n" +
      "32767. Setting clears every process's undo adjustment for those semaphores.\n\n" +
      targetHelp;
    const p = parse(ctx, { ...target, all: { type: "boolean" } }, usage);
    if (!p) return EXIT.ok;
    using s = openSysvSemaphoreSet(openTarget(p.values));
    const nums = p.positionals.map((v, i) =>
      intArg(v, i === 0 && !p.values.all ? "INDEX" : "VALUE")
    );
    if (p.values.all) {
      if (nums.length !== s.count) {
        throw new UsageError(`--all needs ${s.count} values (the set has ${s.count})`);
      }
      s.setValues(nums);
    } else {
      if (nums.length !== 2) throw new UsageError(`expected INDEX VALUE`);
      s.setValue(nums[0], nums[1]);
    }
    return EXIT.ok;
  },
};

const shmRead: Command = {
  summary: "copy a segment's bytes to stdout",
  async run(ctx) {
    const usage = "Usage: ipckit sysv shm read (--key KEY | --id ID) [--offset N] " +
      "[--length N]\n\nAttaches read-only and writes LENGTH bytes (default: to the end) " +
      "from OFFSET (default 0) to stdout.\n\n" + targetHelp;
    const p = parse(
      ctx,
      { ...target, offset: { type: "string" }, length: { type: "string" } },
      usage,
      { allowPositionals: false },
    );
    if (!p) return EXIT.ok;
    using shm = openSysvSharedMemory(openTarget(p.values));
    const offset = sizeFlag(p.values.offset, "offset", { max: shm.size }) ?? 0;
    const length = sizeFlag(p.values.length, "length", { max: shm.size - offset });
    using mem = shm.attach({ readOnly: true });
    await ctx.write(mem.read(offset, length));
    return EXIT.ok;
  },
};

const shmWrite: Command = {
  summary: "write DATA (or stdin) into a segment",
  async run(ctx) {
    const usage = "Usage: ipckit sysv shm write (--key KEY | --id ID) [--offset N] [DATA]\n\n" +
      "Writes DATA (UTF-8), or all of stdin, into the segment at OFFSET (default 0).\n" +
      "Fails without writing anything if it does not fit.\n\n" + targetHelp;
    const p = parse(ctx, { ...target, offset: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    if (p.positionals.length > 1) throw new UsageError(`at most one DATA`);
    using shm = openSysvSharedMemory(openTarget(p.values));
    const offset = sizeFlag(p.values.offset, "offset", { max: shm.size }) ?? 0;
    const data = p.positionals.length
      ? new TextEncoder().encode(p.positionals[0])
      : await ctx.readStdin();
    using mem = shm.attach();
    mem.write(data, offset);
    return EXIT.ok;
  },
};

function kindArg(text: string | undefined): SysvKind {
  if (!KINDS.includes(text as SysvKind)) {
    throw new UsageError(`KIND must be one of ${KINDS.join(", ")}, got "${text}"`);
  }
  return text as SysvKind;
}

const mk: Command = {
  summary: "create an object and print its id (like ipcmk)",
  run(ctx) {
    const usage = "Usage: ipckit sysv mk sysv-msg|sysv-sem|sysv-shm [--key KEY|random] " +
      "[--mode 0600] [--size N] [--semaphores N] [--json]\n\n" +
      "Creates a new object (IPC_CREAT|IPC_EXCL; key IPC_PRIVATE unless --key) with\n" +
      "exactly --mode (default 0600; the umask does not apply) and prints its id, or\n" +
      'with --json {"kind","id","key"}. --size is the segment size (sysv-shm),\n' +
      "--semaphores the number of semaphores (sysv-sem, default 1).";
    const p = parse(ctx, {
      key: { type: "string" },
      mode: { type: "string" },
      size: { type: "string" },
      semaphores: { type: "string" },
      json: { type: "boolean" },
    }, usage);
    if (!p) return EXIT.ok;
    if (p.positionals.length !== 1) throw new UsageError(`expected one KIND`);
    const kind = kindArg(p.positionals[0]);
    const key = p.values.key === undefined
      ? 0
      : p.values.key === "random"
      ? "random" as const
      : keyFlag(String(p.values.key));
    let mode = 0o600;
    if (p.values.mode !== undefined) {
      try {
        mode = parseMode(String(p.values.mode), "mk");
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    let obj: SysvMessageQueue | SysvSemaphoreSet | SysvSharedMemory;
    if (kind === "sysv-msg") obj = createSysvMessageQueue({ key, mode });
    else if (kind === "sysv-sem") {
      obj = createSysvSemaphoreSet({
        key,
        mode,
        count: intFlag(p.values.semaphores, "semaphores", { min: 1 }) ?? 1,
      });
    } else {
      const size = sizeFlag(p.values.size, "size", { min: 1 });
      if (size === undefined) throw new UsageError(`sysv-shm needs --size`);
      obj = createSysvSharedMemory({ key, mode, size });
    }
    if (p.values.json) ctx.json({ kind, id: obj.id, key: obj.key });
    else ctx.out(String(obj.id));
    obj.close();
    return EXIT.ok;
  },
};

const info: Command = {
  summary: "print one object's record, as ls shows it (like ipcs -i)",
  run(ctx) {
    const usage = "Usage: ipckit sysv info KIND (--key KEY | --id ID) [--json]\n\n" +
      "Prints the object's record: key, id, owner, mode, size or counts, the pids the kernel\n" +
      "records and the segment status. KIND is sysv-msg, sysv-sem or sysv-shm (or msg, sem,\n" +
      "shm). --json prints the same record as ls --json (docs/cli.md). Nothing is opened, so\n" +
      "the owner check does not apply.";
    const p = parse(ctx, {
      key: { type: "string" },
      id: { type: "string" },
      json: { type: "boolean" },
    }, usage);
    if (!p) return EXIT.ok;
    if (p.positionals.length !== 1) throw new UsageError(`expected one KIND`);
    const kind = kindArg(KIND_ALIASES[p.positionals[0]] ?? p.positionals[0]);
    const { key, id } = p.values;
    if ((key === undefined) === (id === undefined)) {
      throw new UsageError(`pass exactly one of --key and --id`);
    }
    let target: number;
    if (key !== undefined) {
      const k = keyFlag(String(key));
      if (k === 0) throw new UsageError("--key 0 (IPC_PRIVATE) names no object; use --id");
      target = sysvIdForKey(kind, k);
    } else target = intFlag(id, "id", { max: 0x7fffffff })!;
    const o = listSysvObjects(kind).find((r) => r.id === target);
    if (!o) {
      throw ipcError({ code: "ENOENT", syscall: "info", object: `${kind} id ${target}` });
    }
    const r = objectRecord(o);
    if (p.values.json) ctx.json(r);
    else for (const [k, v] of Object.entries(r)) ctx.out(`${k}: ${printable(String(v))}`);
    return EXIT.ok;
  },
};

/** The `sysv` command group. */
export const sysvCommand: Command = group(
  "sysv",
  "System V message queues, semaphore sets and shared memory",
  {
    msg: group("sysv msg", "System V message queues", { send: msgSend, recv: msgRecv }),
    sem: group("sysv sem", "System V semaphore sets", { op: semOp, get: semGet, set: semSet }),
    shm: group("sysv shm", "System V shared memory", { read: shmRead, write: shmWrite }),
    mk,
    info,
  },
);
