/**
 * `ipckit ls`: list IPC objects of every kind in the table of
 * `lib/_kinds.ts` (like ipcs/lsipc), or the host's limits (`--limits`,
 * lsipc's default view). `ipckit rm` lives in `rm.ts`.
 *
 * @module
 */
import { type IpcLimit, listingNotes, listIpcLimits, listIpcObjects } from "../inspect.ts";
import type { IpcKind, IpcObjectInfo } from "../_inspect.ts";
import { isKind, kindNames } from "../_kinds.ts";
import { formatSysvKey } from "../sysv_key.ts";
import { type Command, type Context, EXIT, parse, UsageError } from "./_common.ts";
import { objectRecord, octalMode } from "./_record.ts";

/** ipcrm's and lsipc's short kind names: System V, as in `ipcrm shm 46`. */
export const KIND_ALIASES: Record<string, IpcKind> = {
  shm: "sysv-shm",
  msg: "sysv-msg",
  sem: "sysv-sem",
};

/** A kind named on the command line: an ipckit kind or an ipcrm alias (`shm`). */
export function kindArg(text: string): IpcKind {
  const kind = KIND_ALIASES[text] ?? text;
  if (!isKind(kind)) {
    throw new UsageError(
      `unknown kind "${text}"; expected one of ${kindNames().join(", ")} (or shm, msg, sem)`,
    );
  }
  return kind;
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

const dash = (n: number | undefined) => n === undefined ? "-" : String(n);

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
  const status = [o.dest ? "dest" : "", o.locked ? "locked" : ""].filter(Boolean).join(",");
  return [
    o.kind,
    o.name === undefined ? `key ${formatSysvKey(o.key ?? 0)} id ${o.id}` : printable(o.name),
    printable(o.owner),
    octalMode(o.mode),
    what,
    dash(o.creatorPid),
    dash(o.lastPid),
    dash(o.lastSendPid),
    dash(o.lastReceivePid),
    status || "-",
    o.creatorAlive === undefined ? "?" : o.creatorAlive ? "yes" : "no",
  ];
}

function table(ctx: Context, rows: string[][], right: number[] = []): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) {
    ctx.out(
      r.map((c, i) => right.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))
        .join("  ").trimEnd(),
    );
  }
}

function usePercent(l: IpcLimit): string {
  if (l.used === undefined) return "-";
  return `${(l.used / Number(l.limit) * 100).toFixed(2)}%`;
}

/** A limit's JSON record: `limit` exact even above 2^53, as lsipc --json -b prints it. */
function limitRecord(l: IpcLimit): Record<string, unknown> {
  // deno-lint-ignore no-explicit-any -- JSON.rawJSON (ES2025) is not in Deno's lib types yet
  const raw = (JSON as any).rawJSON as ((text: string) => unknown) | undefined;
  const limit = typeof l.limit === "bigint" ? raw?.(String(l.limit)) ?? String(l.limit) : l.limit;
  return {
    resource: l.resource,
    description: l.description,
    limit,
    used: l.used,
    source: l.source,
  };
}

function limits(ctx: Context, json: boolean): number {
  const all = listIpcLimits();
  if (json) { for (const l of all) ctx.json(limitRecord(l)); }
  else {
    table(ctx, [
      ["RESOURCE", "DESCRIPTION", "LIMIT", "USED", "USE%", "SOURCE"],
      ...all.map((l) => [
        l.resource,
        l.description,
        String(l.limit),
        dash(l.used),
        usePercent(l),
        l.source,
      ]),
    ], [2, 3, 4]);
  }
  return EXIT.ok;
}

/** `ipckit ls`. */
export const lsCommand: Command = {
  summary: "list POSIX and System V IPC objects or the host's limits, like ipcs and lsipc",
  run(ctx) {
    const usage = `Usage: ipckit ls [--json] [--kind KIND]... [--orphans]\n` +
      `       ipckit ls --limits [--json]\n\n` +
      "Lists IPC objects visible to you: name or key and id, owner, mode, size or counts,\n" +
      "the pids the kernel records (CPID creator and LPID last attach/detach of a System V\n" +
      "segment, LSPID/LRPID last send/receive of a System V queue), a segment's status\n" +
      "(dest: removed, goes with its last detach; locked: SHM_LOCK) and whether its creator\n" +
      "still runs. KIND is one of " + kindNames().join(", ") + ",\n" +
      "or shm, msg, sem for System V. --json prints one record per line (docs/cli.md).\n" +
      "--orphans keeps objects whose creator is gone (the kernel records a creator for\n" +
      "System V shared memory only). --limits prints the kernel's limits instead, as lsipc\n" +
      "does by default, with the file each comes from. Notes about what cannot be listed\n" +
      "here (e.g. /dev/mqueue not mounted) go to stderr. Control characters in names are\n" +
      "shown as escapes (\\n, \\x1b).";
    const p = parse(
      ctx,
      {
        json: { type: "boolean" },
        kind: { type: "string", multiple: true },
        orphans: { type: "boolean" },
        limits: { type: "boolean" },
      },
      usage,
      { allowPositionals: false },
    );
    if (!p) return EXIT.ok;
    const kind = ((p.values.kind as string[] | undefined) ?? []).map(kindArg);
    if (p.values.limits) {
      if (kind.length || p.values.orphans) {
        throw new UsageError("--limits takes no --kind or --orphans");
      }
      return limits(ctx, !!p.values.json);
    }
    const opts = { kind: kind.length ? kind : undefined, orphans: !!p.values.orphans };
    const objects = listIpcObjects(opts);
    if (p.values.json) { for (const o of objects) ctx.json(objectRecord(o)); }
    else if (objects.length) {
      table(ctx, [
        [
          "KIND",
          "NAME",
          "OWNER",
          "MODE",
          "SIZE",
          "CPID",
          "LPID",
          "LSPID",
          "LRPID",
          "STATUS",
          "ALIVE",
        ],
        ...objects.map(row),
      ]);
    }
    for (const n of listingNotes(opts)) ctx.err(`ipckit: note: ${n}`);
    return EXIT.ok;
  },
};
