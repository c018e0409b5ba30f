/**
 * `ipckit ls [--json] [--kind K]` and `ipckit rm KIND NAME`: list and remove
 * IPC objects of every kind in the table of `lib/_kinds.ts`.
 *
 * @module
 */
import { listingNotes, listIpcObjects, removeIpcObject } from "../inspect.ts";
import type { IpcKind, IpcObjectInfo } from "../_inspect.ts";
import { isKind, kindNames } from "../_kinds.ts";
import { formatSysvKey, parseSysvKey } from "../sysv_key.ts";
import { sysvIdForKey, type SysvKind } from "../sysv_inspect.ts";
import { type Command, EXIT, parse, UsageError } from "./_common.ts";

function kindArg(text: string): IpcKind {
  if (!isKind(text)) {
    throw new UsageError(`unknown kind "${text}"; expected one of ${kindNames().join(", ")}`);
  }
  return text;
}

// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f\\]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\" };

/**
 * `text` safe for a terminal: control characters (newline, ESC, C1) and the
 * backslash are shown as escapes, so a name cannot fake table rows or send
 * terminal commands. `--json` output is already escaped by JSON.
 */
export function printable(text: string): string {
  return text.replace(
    CONTROL,
    (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

function row(o: IpcObjectInfo): string[] {
  const what = o.kind === "posix-sem"
    ? `value ${o.semaphores ?? "?"}`
    : o.kind === "sysv-sem"
    ? `${o.semaphores} sems`
    : o.kind.endsWith("-msg") || o.kind.endsWith("-mq")
    ? `${o.size ?? "?"} B, ${o.messages ?? "?"} msgs`
    : o.kind === "sysv-shm"
    ? `${o.size} B, ${o.attached} att`
    : `${o.size ?? "?"} B`;
  return [
    o.kind,
    o.name === undefined ? `key ${formatSysvKey(o.key ?? 0)} id ${o.id}` : printable(o.name),
    printable(o.owner),
    `0${o.mode.toString(8)}`,
    what,
    o.creatorPid === undefined ? "-" : String(o.creatorPid),
    o.lastPid === undefined ? "-" : String(o.lastPid),
    o.creatorAlive === undefined ? "?" : o.creatorAlive ? "yes" : "no",
  ];
}

/** `ipckit ls`. */
export const lsCommand: Command = {
  summary: "list POSIX and System V IPC objects, like ipcs and lsipc",
  run(ctx) {
    const usage = `Usage: ipckit ls [--json] [--kind ${kindNames().join("|")}]... [--orphans]\n\n` +
      "Lists IPC objects visible to you: name or key and id, owner, mode, size or counts,\n" +
      "creator and last pid, and whether the creator still runs. --json prints one record\n" +
      "per line. --orphans keeps objects whose creator is gone (the kernel records a creator\n" +
      "for System V shared memory only). Notes about what cannot be listed here (e.g.\n" +
      "/dev/mqueue not mounted) go to stderr. Control characters in names are shown as\n" +
      "escapes (\\n, \\x1b).";
    const p = parse(
      ctx,
      {
        json: { type: "boolean" },
        kind: { type: "string", multiple: true },
        orphans: { type: "boolean" },
      },
      usage,
      { allowPositionals: false },
    );
    if (!p) return EXIT.ok;
    const kind = ((p.values.kind as string[] | undefined) ?? []).map(kindArg);
    const opts = { kind: kind.length ? kind : undefined, orphans: !!p.values.orphans };
    const objects = listIpcObjects(opts);
    if (p.values.json) { for (const o of objects) ctx.json(o); }
    else if (objects.length) {
      const rows = [
        ["KIND", "NAME", "OWNER", "MODE", "SIZE", "CPID", "LPID", "ALIVE"],
        ...objects.map(row),
      ];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      for (const r of rows) ctx.out(r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
    }
    for (const n of listingNotes(opts)) ctx.err(`ipckit: note: ${n}`);
    return EXIT.ok;
  },
};

/** `ipckit rm KIND NAME` and `ipckit rm sysv-* (ID | --key KEY)`. */
export const rmCommand: Command = {
  summary: "remove a POSIX or System V IPC object, like ipcrm",
  run(ctx) {
    const usage = `Usage: ipckit rm posix-mq|posix-sem|posix-shm NAME\n` +
      `       ipckit rm sysv-msg|sysv-sem|sysv-shm (ID | --key KEY)\n\n` +
      'NAME is a POSIX name ("/jobs"); a System V object goes by id or by key (like ipcrm).\n' +
      "Waiters on a removed queue or semaphore set fail with EIDRM; a System V segment\n" +
      "goes once the last process detaches.";
    const p = parse(ctx, { key: { type: "string" } }, usage);
    if (!p) return EXIT.ok;
    const [kindText, target, ...extra] = p.positionals;
    if (kindText === undefined) throw new UsageError("expected KIND");
    const kind = kindArg(kindText);
    if (!kind.startsWith("sysv-")) {
      if (target === undefined || extra.length || p.values.key !== undefined) {
        throw new UsageError("expected KIND NAME");
      }
      removeIpcObject(kind, target);
      return EXIT.ok;
    }
    if (extra.length || (target === undefined) === (p.values.key === undefined)) {
      throw new UsageError("pass exactly one of ID and --key");
    }
    let id: number;
    if (target !== undefined) {
      // A positional, so not intFlag: its message would name a "--ID" flag.
      if (!/^\d{1,10}$/.test(target) || Number(target) > 0x7fffffff) {
        throw new UsageError(`ID must be an integer between 0 and 2147483647, got "${target}"`);
      }
      id = Number(target);
    } else {
      let key: number;
      try {
        key = parseSysvKey(String(p.values.key));
      } catch (e) {
        throw new UsageError(`--key: ${(e as Error).message}`);
      }
      id = sysvIdForKey(kind as SysvKind, key);
    }
    removeIpcObject(kind, id);
    return EXIT.ok;
  },
};
