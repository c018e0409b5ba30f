/**
 * The host's IPC limits, what `lsipc` prints by default: the kernel's System V
 * limits with how much of each is used, and the POSIX message-queue limits,
 * each with the file (or constant) it comes from. Read through
 * `lib/_host.ts`, so `--allow-read` is enough.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { readProcText } from "./_host.ts";

/** One limit of the host, like a row of `lsipc` (no options). */
export interface IpcLimit {
  /** lsipc's resource name (`"MSGMNI"`), or ipckit's for POSIX queues (`"MQ_MSGMAX"`). */
  resource: string;
  /** What it limits, in lsipc's words where lsipc has the row. */
  description: string;
  /**
   * The limit. A `bigint` when it does not fit a `number` exactly (SHMALL and
   * SHMMAX default to nearly 2^64, meaning "no limit").
   */
  limit: number | bigint;
  /** How much is in use now, where the kernel counts it (number of objects, semaphores, pages). */
  used?: number;
  /** Where the value comes from: a `/proc` file, `"kernel constant"`, or `/proc/self/limits`. */
  source: string;
}

function exact(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** The numbers in a `/proc/sys` file, exactly, or `[]`. */
function numbers(path: string): string[] {
  let text: string | null;
  try {
    text = readProcText(path);
  } catch {
    return [];
  }
  return (text ?? "").trim().split(/\s+/).filter((w) => /^\d+$/.test(w));
}

function sysvRows(family: "msg" | "sem" | "shm"): Record<string, string>[] {
  const text = readProcText(`/proc/sysvipc/${family}`);
  if (text === null) return [];
  const [head, ...lines] = text.split("\n");
  const cols = head.trim().split(/\s+/);
  return lines.filter((l) => l.trim()).map((l) => {
    const vals = l.trim().split(/\s+/);
    return Object.fromEntries(cols.map((c, i) => [c, vals[i] ?? ""]));
  });
}

/** `RLIMIT_MSGQUEUE` (soft) from `/proc/self/limits`: "unlimited" is undefined. */
function rlimitMsgqueue(): string | undefined {
  const m = /^Max msgqueue size\s+(\d+)/m.exec(readProcText("/proc/self/limits") ?? "");
  return m?.[1];
}

/**
 * Every IPC limit of this host: System V (`MSGMNI` ... `SEMVMX`, lsipc's rows
 * in lsipc's order, with lsipc's USED figures) and POSIX message queues
 * (`/proc/sys/fs/mqueue` and `RLIMIT_MSGQUEUE`). Rows whose source cannot be
 * read are left out.
 */
export function readIpcLimits(): IpcLimit[] {
  const out: IpcLimit[] = [];
  const add = (
    resource: string,
    description: string,
    source: string,
    value: string | undefined,
    used?: number,
  ) => {
    if (value === undefined) return;
    out.push({
      resource,
      description,
      limit: exact(value),
      ...(used === undefined ? {} : { used }),
      source,
    });
  };
  const proc = (name: string) => `/proc/sys/kernel/${name}`;
  const one = (path: string) => numbers(path)[0];
  const msg = sysvRows("msg");
  const shm = sysvRows("shm");
  const sem = sysvRows("sem");
  const page = libc().getpagesize();
  add("MSGMNI", "Number of message queues", proc("msgmni"), one(proc("msgmni")), msg.length);
  add("MSGMAX", "Max size of message (bytes)", proc("msgmax"), one(proc("msgmax")));
  add("MSGMNB", "Default max size of queue (bytes)", proc("msgmnb"), one(proc("msgmnb")));
  add("SHMMNI", "Shared memory segments", proc("shmmni"), one(proc("shmmni")), shm.length);
  // lsipc's figure: all segments' bytes in whole pages (the kernel rounds each segment up).
  const pages = Math.floor(shm.reduce((n, r) => n + Number(r.size), 0) / page);
  add("SHMALL", "Shared memory pages", proc("shmall"), one(proc("shmall")), pages);
  add("SHMMAX", "Max size of shared memory segment (bytes)", proc("shmmax"), one(proc("shmmax")));
  add("SHMMIN", "Min size of shared memory segment (bytes)", "kernel constant", "1");
  const s = numbers(proc("sem")); // SEMMSL SEMMNS SEMOPM SEMMNI
  const semaphores = sem.reduce((n, r) => n + Number(r.nsems), 0);
  add("SEMMNI", "Number of semaphore identifiers", proc("sem"), s[3], sem.length);
  add("SEMMNS", "Total number of semaphores", proc("sem"), s[1], semaphores);
  add("SEMMSL", "Max semaphores per semaphore set.", proc("sem"), s[0]);
  add("SEMOPM", "Max number of operations per semop(2)", proc("sem"), s[2]);
  add("SEMVMX", "Semaphore max value", "kernel constant", "32767");
  const mq = (name: string) => `/proc/sys/fs/mqueue/${name}`;
  add(
    "MQ_QUEUES",
    "POSIX message queues (for unprivileged users)",
    mq("queues_max"),
    one(mq("queues_max")),
  );
  add("MQ_MSGMAX", "Max messages per POSIX queue", mq("msg_max"), one(mq("msg_max")));
  add(
    "MQ_MSGSIZEMAX",
    "Max size of a POSIX message (bytes)",
    mq("msgsize_max"),
    one(mq("msgsize_max")),
  );
  add(
    "MQ_MSGDEFAULT",
    "Default messages per new POSIX queue",
    mq("msg_default"),
    one(mq("msg_default")),
  );
  add(
    "MQ_MSGSIZEDEFAULT",
    "Default message size of a new POSIX queue (bytes)",
    mq("msgsize_default"),
    one(mq("msgsize_default")),
  );
  add(
    "MQ_BYTES",
    "Bytes of POSIX queues per user (RLIMIT_MSGQUEUE)",
    "/proc/self/limits",
    rlimitMsgqueue(),
  );
  return out;
}
