/**
 * `ipckit ls [--json] [--kind K]` and `ipckit rm KIND NAME`: list and remove
 * IPC objects of every kind in the `kinds` table of `lib/inspect.ts`.
 *
 * @module
 */
import { kinds, listingNotes, listIpcObjects, removeIpcObject } from "../inspect.ts";
import type { IpcKind, IpcObjectInfo } from "../_inspect.ts";
import { type Command, EXIT, parse, printJson, UsageError } from "./_common.ts";

function kindArg(text: string, usage: string): IpcKind {
  if (!(text in kinds)) {
    throw new UsageError(
      `unknown kind "${text}"; expected one of ${Object.keys(kinds).join(", ")}\n\n${usage}`,
    );
  }
  return text as IpcKind;
}

function row(o: IpcObjectInfo): string[] {
  const what = o.kind === "posix-mq"
    ? `${o.messages ?? "?"} msgs, ${o.size ?? "?"} B`
    : o.kind === "posix-sem"
    ? `value ${o.semaphores ?? "?"}`
    : o.size !== undefined
    ? `${o.size} B`
    : "";
  return [
    o.kind,
    o.name ?? `key 0x${(o.key ?? 0).toString(16)} id ${o.id}`,
    o.owner,
    `0${o.mode.toString(8)}`,
    what,
  ];
}

/** `ipckit ls`. */
export const lsCommand: Command = {
  summary: "list IPC objects (name, kind, owner, mode, size or messages)",
  async run(args) {
    const usage = `Usage: ipckit ls [--json] [--kind ${Object.keys(kinds).join("|")}]\n\n` +
      "Lists IPC objects visible to you. --json prints one record per line. Notes about " +
      "what cannot be listed here (e.g. /dev/mqueue not mounted) go to stderr.";
    const p = parse(
      args,
      { json: { type: "boolean" }, kind: { type: "string", multiple: true } },
      usage,
      {
        allowPositionals: false,
      },
    );
    if (!p) return EXIT.ok;
    const kind = ((p.values.kind as string[] | undefined) ?? []).map((k) => kindArg(k, usage));
    const opts = { kind: kind.length ? kind : undefined };
    const objects = listIpcObjects(opts);
    if (p.values.json) { for (const o of objects) printJson(o); }
    else if (objects.length) {
      const rows = [["KIND", "NAME", "OWNER", "MODE", "SIZE"], ...objects.map(row)];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
    }
    for (const n of listingNotes(opts)) console.error(`ipckit: note: ${n}`);
    return await Promise.resolve(EXIT.ok);
  },
};

/** `ipckit rm KIND NAME`. */
export const rmCommand: Command = {
  summary: "remove an IPC object: ipckit rm KIND NAME",
  async run(args) {
    const usage =
      `Usage: ipckit rm KIND NAME\n\nKIND is one of ${Object.keys(kinds).join(", ")}; ` +
      'NAME is a POSIX name ("/jobs") or a System V id.';
    const p = parse(args, {}, usage);
    if (!p) return EXIT.ok;
    if (p.positionals.length !== 2) throw new UsageError(`expected KIND NAME\n\n${usage}`);
    const kind = kindArg(p.positionals[0], usage);
    const target = kind.startsWith("sysv-") ? Number(p.positionals[1]) : p.positionals[1];
    removeIpcObject(kind, target);
    return await Promise.resolve(EXIT.ok);
  },
};
