/**
 * `ipckit rm`: remove IPC objects, with ipcrm(1)'s command line as well as
 * ipckit's own: `rm KIND TARGET...`, `rm shm 46` (ipcrm's old form),
 * `-q/-Q/-m/-M/-s/-S` (and their long forms), `--all[=shm|msg|sem]`, several
 * objects per call. Every object is tried; each failure is reported on its
 * own line and makes the exit code 1.
 *
 * @module
 */
import { removeIpcObject } from "../inspect.ts";
import type { IpcKind } from "../_inspect.ts";
import { kindNames } from "../_kinds.ts";
import { parseSysvKey } from "../sysv_key.ts";
import { listSysvObjects, sysvIdForKey, type SysvKind } from "../sysv_inspect.ts";
import { libc } from "../../ffi/libc.ts";
import { type Command, EXIT, UsageError } from "./_common.ts";
import { KIND_ALIASES, kindArg, printable } from "./ls.ts";

/** One object to remove, as the command line named it. */
type Job =
  | { kind: IpcKind; name: string }
  | { kind: SysvKind; id: number }
  | { kind: SysvKind; key: number; flag: string };

/** ipcrm's flags: letter → kind and whether it takes a key (upper case) or an id. */
const IPCRM: Record<string, { kind: SysvKind; key: boolean; long: string }> = {
  q: { kind: "sysv-msg", key: false, long: "queue-id" },
  Q: { kind: "sysv-msg", key: true, long: "queue-key" },
  m: { kind: "sysv-shm", key: false, long: "shmem-id" },
  M: { kind: "sysv-shm", key: true, long: "shmem-key" },
  s: { kind: "sysv-sem", key: false, long: "semaphore-id" },
  S: { kind: "sysv-sem", key: true, long: "semaphore-key" },
};
const LONG = Object.fromEntries(Object.entries(IPCRM).map(([k, v]) => [v.long, k]));
const ALL: Record<string, SysvKind[]> = {
  "": ["sysv-msg", "sysv-sem", "sysv-shm"],
  msg: ["sysv-msg"],
  sem: ["sysv-sem"],
  shm: ["sysv-shm"],
  "sysv-msg": ["sysv-msg"],
  "sysv-sem": ["sysv-sem"],
  "sysv-shm": ["sysv-shm"],
};

const USAGE = "Usage: ipckit rm KIND NAME...              (posix-mq, posix-sem, posix-shm)\n" +
  "       ipckit rm KIND ID... [--key KEY]...    (sysv-msg, sysv-sem, sysv-shm or msg, sem, shm)\n" +
  "       ipckit rm [-q ID] [-Q KEY] [-m ID] [-M KEY] [-s ID] [-S KEY]... [-v]\n" +
  "       ipckit rm -a|--all[=shm|msg|sem] [-v]\n\n" +
  'Removes IPC objects: POSIX ones by name ("/jobs"), System V ones by id or key, with\n' +
  "ipcrm's options: -q/-Q a message queue, -m/-M a shared-memory segment, -s/-S a\n" +
  "semaphore set, by id (lower case) or key (upper case); long forms --queue-id,\n" +
  "--queue-key, --shmem-id, --shmem-key, --semaphore-id, --semaphore-key. --all removes\n" +
  "every System V object of the kind (default: all three) that you own (root: every one).\n" +
  "-v prints each removal. Every object is tried; each failure gets a line on stderr and\n" +
  "the exit code is 1. Waiters on a removed queue or set fail with EIDRM; a segment goes\n" +
  "once the last process detaches.";

function idArg(text: string, what: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0x7fffffff) {
    throw new UsageError(`${what} must be an integer between 0 and 2147483647, got "${text}"`);
  }
  return Number(text);
}

function keyArg(text: string, what: string): number {
  let key: number;
  try {
    key = parseSysvKey(text);
  } catch (e) {
    throw new UsageError(`${what}: ${(e as Error).message}`);
  }
  if (key === 0) throw new UsageError(`${what}: key 0 (IPC_PRIVATE) names no object`);
  return key;
}

interface Plan {
  jobs: Job[];
  all?: SysvKind[];
  verbose: boolean;
  help: boolean;
  /** ipcrm's old form (`ipcrm shm 46`), which says "resource(s) deleted" when all went. */
  oldForm?: boolean;
}

/** Parses rm's command line, in order, into what to remove; usage errors before any removal. */
export function parseRm(args: string[]): Plan {
  const plan: Plan = { jobs: [], verbose: false, help: false };
  const positionals: string[] = [];
  const keys: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (flag: string, inline?: string) => {
      if (inline !== undefined && inline !== "") return inline;
      if (i + 1 >= args.length) throw new UsageError(`${flag} needs a value`);
      return args[++i];
    };
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a === "-h" || a === "--help") plan.help = true;
    else if (a === "-v" || a === "--verbose") plan.verbose = true;
    else if (a === "-a" || a === "--all" || a.startsWith("--all=")) {
      const which = a.startsWith("--all=") ? a.slice(6) : "";
      const kinds = ALL[which];
      if (!kinds) throw new UsageError(`--all takes shm, msg or sem, got "${which}"`);
      plan.all = [...new Set([...(plan.all ?? []), ...kinds])];
    } else if (a === "--key" || a.startsWith("--key=")) {
      keys.push(value("--key", a.startsWith("--key=") ? a.slice(6) : undefined));
    } else if (/^-[qQmMsS]/.test(a)) {
      const f = IPCRM[a[1]];
      const v = value(`-${a[1]}`, a.slice(2));
      plan.jobs.push(
        f.key
          ? { kind: f.kind, key: keyArg(v, `-${a[1]}`), flag: `-${a[1]} ${v}` }
          : { kind: f.kind, id: idArg(v, `-${a[1]} ID`) },
      );
    } else if (a.startsWith("--") && LONG[a.slice(2).split("=")[0]] !== undefined) {
      const [name, inline] = a.slice(2).split(/=(.*)/s);
      const f = IPCRM[LONG[name]];
      const v = value(`--${name}`, inline);
      plan.jobs.push(
        f.key
          ? { kind: f.kind, key: keyArg(v, `--${name}`), flag: `--${name} ${v}` }
          : { kind: f.kind, id: idArg(v, `--${name}`) },
      );
    } else if (a.startsWith("-") && a !== "-") {
      throw new UsageError(`unknown option '${a}'`);
    } else positionals.push(a);
  }
  if (plan.help) return plan;
  const [kindText, ...targets] = positionals;
  if (kindText !== undefined) {
    const kind = kindArg(kindText);
    plan.oldForm = kindText in KIND_ALIASES && !keys.length;
    if (kind.startsWith("sysv-")) {
      for (const t of targets) plan.jobs.push({ kind: kind as SysvKind, id: idArg(t, "ID") });
      for (const k of keys) {
        plan.jobs.push({ kind: kind as SysvKind, key: keyArg(k, "--key"), flag: `--key ${k}` });
      }
      if (!targets.length && !keys.length) throw new UsageError(`expected ${kindText} ID...`);
    } else {
      if (keys.length) throw new UsageError(`--key is for System V kinds, not ${kind}`);
      if (!targets.length) throw new UsageError(`expected ${kind} NAME...`);
      for (const name of targets) plan.jobs.push({ kind, name });
    }
  } else if (keys.length) {
    throw new UsageError("--key needs a System V KIND first, like: rm shm --key 0x1234");
  }
  if (!plan.jobs.length && !plan.all) {
    throw new UsageError(
      `expected KIND and what to remove, ipcrm's -q/-Q/-m/-M/-s/-S or --all (kinds: ${
        kindNames().join(", ")
      })`,
    );
  }
  return plan;
}

/** `ipckit rm`. */
export const rmCommand: Command = {
  summary: "remove POSIX and System V IPC objects, like ipcrm",
  run(ctx) {
    const plan = parseRm(ctx.args);
    if (plan.help) {
      ctx.out(USAGE);
      return EXIT.ok;
    }
    let failed = false;
    const attempt = (what: string, remove: () => void) => {
      try {
        remove();
        if (plan.verbose) ctx.out(`removed ${what}`);
      } catch (e) {
        failed = true;
        ctx.err(`ipckit: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    for (const job of plan.jobs) {
      if ("name" in job) {
        attempt(`${job.kind} ${printable(job.name)}`, () => removeIpcObject(job.kind, job.name));
      } else if ("id" in job) {
        attempt(`${job.kind} id ${job.id}`, () => removeIpcObject(job.kind, job.id));
      } else {
        attempt(`${job.kind} ${job.flag}`, () => {
          const id = sysvIdForKey(job.kind, job.key);
          removeIpcObject(job.kind, id);
        });
      }
    }
    if (plan.all) {
      const euid = libc().geteuid();
      for (const kind of plan.all) {
        for (const o of listSysvObjects(kind)) {
          // What ipcrm --all tries: objects this user may remove (root: all of them).
          if (euid !== 0 && o.uid !== euid) continue;
          attempt(`${kind} id ${o.id}`, () => {
            try {
              removeIpcObject(kind, o.id!);
            } catch (e) {
              // Removed by someone else between the listing and now: not a failure.
              if ((e as { code?: string }).code !== "ENOENT") throw e;
            }
          });
        }
      }
    }
    if (failed) return EXIT.error;
    if (plan.oldForm) ctx.out("resource(s) deleted"); // what ipcrm's old form prints
    return EXIT.ok;
  },
};
