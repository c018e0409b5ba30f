/**
 * Listing and removing POSIX IPC objects: shared memory and named semaphores
 * from `/dev/shm` (glibc keeps a semaphore as `/dev/shm/sem.<name>`), message
 * queues from `/dev/mqueue`.
 *
 * Message queues have no directory unless the mqueue filesystem is mounted.
 * When `/dev/mqueue` is missing and this process is root with `unshare`
 * available, the queues are listed by mounting the filesystem in a private,
 * throw-away mount namespace (the host's mounts are untouched). Otherwise
 * {@linkcode KindProvider.note} says how to mount it.
 *
 * @module
 */
import { cstr, libc } from "../ffi/libc.ts";
import { unistd } from "../ffi/unistd.ts";
import { mqueueLayout } from "../ffi/mqueue.ts";
import { getField } from "../ffi/struct.ts";
import type { IpcKind, IpcObjectInfo, KindProvider } from "./_inspect.ts";
import { statPath } from "./_stat.ts";
import { removeMessageQueue } from "./mqueue.ts";
import { removeSemaphore } from "./semaphore.ts";
import { readSemaphoreValue } from "./_sem_file.ts";
import { removeSharedMemory } from "./shm.ts";
import { listDir, readProcText, userName } from "./_host.ts";

function shmEntries(): string[] {
  // Through libc: Deno's fs API demands --allow-all for /dev/shm.
  return (listDir("/dev/shm") ?? []).sort();
}

/**
 * The value, read from the file rather than through `sem_open`: a listing
 * looks at everyone's semaphores, and mapping a file its owner truncated
 * (or anyone truncated, if it is writable) would be a fatal SIGBUS.
 */
export function semValue(name: string): number | undefined {
  try {
    return readSemaphoreValue(name);
  } catch {
    return undefined; // unreadable, not a semaphore, or removed while listing
  }
}

function base(kind: IpcKind, name: string, path: string): IpcObjectInfo | undefined {
  try {
    const st = statPath(path);
    if (st.type !== "file") return undefined;
    return { kind, name, uid: st.uid, owner: userName(st.uid), mode: st.mode, size: st.size };
  } catch {
    return undefined; // removed while listing
  }
}

const posixShm: KindProvider = {
  list() {
    const out: IpcObjectInfo[] = [];
    for (const f of shmEntries()) {
      if (f.startsWith("sem.")) continue;
      const info = base("posix-shm", `/${f}`, `/dev/shm/${f}`);
      if (info) out.push(info);
    }
    return out;
  },
  remove(name) {
    removeSharedMemory(name as string);
  },
};

const posixSem: KindProvider = {
  list() {
    const out: IpcObjectInfo[] = [];
    for (const f of shmEntries()) {
      if (!f.startsWith("sem.")) continue;
      const name = `/${f.slice(4)}`;
      const info = base("posix-sem", name, `/dev/shm/${f}`);
      if (!info) continue;
      delete info.size;
      const v = semValue(name);
      if (v !== undefined) info.semaphores = v;
      out.push(info);
    }
    return out;
  },
  remove(name) {
    removeSemaphore(name as string);
  },
};

const MQ_DIR = "/dev/mqueue";

function mqMounted(): boolean {
  try {
    return statPath(MQ_DIR).type === "directory" &&
      (readProcText("/proc/self/mounts") ?? "").split("\n").some((l) =>
        l.split(" ")[1] === MQ_DIR && l.split(" ")[2] === "mqueue"
      );
  } catch {
    return false;
  }
}

function canUnshare(): boolean {
  if (libc().geteuid() !== 0) return false;
  try {
    return statPath("/usr/bin/unshare").type === "file";
  } catch {
    return false;
  }
}

function mqMessages(name: string): number | undefined {
  const lib = libc();
  const C = unistd();
  const fd = lib.mq_open(cstr(name), C.O_RDONLY | C.O_NONBLOCK | C.O_CLOEXEC, 0, null);
  if (fd < 0) return undefined;
  const L = mqueueLayout().mq_attr;
  const attr = new Uint8Array(L.size);
  const r = lib.mq_getattr(fd, attr);
  lib.mq_close(fd);
  return r === 0 ? getField(new DataView(attr.buffer), L, "mq_curmsgs") : undefined;
}

function qsize(text: string): number | undefined {
  const m = /QSIZE:(\d+)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

const UNSHARE_SCRIPT = 'd=$(mktemp -d) && mount -t mqueue none "$d" && cd "$d" && ' +
  'for f in *; do [ -e "$f" ] || continue; printf "%s\\t%s\\t" "$f" "$(stat -c "%a %u" "$f")"; ' +
  'cat "$f"; done; cd / && umount "$d" && rmdir "$d"';

function mqViaUnshare(): IpcObjectInfo[] {
  const res = new Deno.Command("/usr/bin/unshare", {
    args: ["--mount", "--propagation", "private", "sh", "-c", UNSHARE_SCRIPT],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!res.success) {
    throw new Error(
      `listing queues through a private mqueue mount failed: ${
        new TextDecoder().decode(res.stderr).trim()
      }`,
    );
  }
  const out: IpcObjectInfo[] = [];
  for (const line of new TextDecoder().decode(res.stdout).split("\n")) {
    const [file, perm, rest] = line.split("\t");
    if (!file || !perm) continue;
    const [mode, uid] = perm.split(" ").map((x, i) => parseInt(x, i === 0 ? 8 : 10));
    out.push({
      kind: "posix-mq",
      name: `/${file}`,
      uid,
      owner: userName(uid),
      mode,
      size: qsize(rest ?? ""),
    });
  }
  return out;
}

let unshareError: string | undefined;

const posixMq: KindProvider = {
  list() {
    let out: IpcObjectInfo[];
    if (mqMounted()) {
      out = [];
      for (const name of (listDir(MQ_DIR) ?? []).sort()) {
        const info = base("posix-mq", `/${name}`, `${MQ_DIR}/${name}`);
        if (!info) continue;
        try {
          const text = readProcText(`${MQ_DIR}/${name}`);
          if (text !== null) info.size = qsize(text);
        } catch { /* removed meanwhile */ }
        out.push(info);
      }
    } else if (canUnshare()) {
      try {
        out = mqViaUnshare();
        unshareError = undefined;
      } catch (e) {
        unshareError = e instanceof Error ? e.message : String(e);
        return [];
      }
    } else {
      return [];
    }
    for (const info of out) {
      const n = mqMessages(info.name!);
      if (n !== undefined) info.messages = n;
    }
    return out;
  },
  remove(name) {
    removeMessageQueue(name as string);
  },
  note() {
    if (mqMounted()) return undefined;
    if (canUnshare() && unshareError === undefined) return undefined;
    return (unshareError ? `${unshareError}; ` : "") +
      "message queues cannot be listed: the mqueue filesystem is not mounted at /dev/mqueue " +
      "(mount it as root with: mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue); " +
      "queues still work and `ipckit mq info NAME` / `ipckit rm posix-mq NAME` work by name";
  },
};

/** A {@linkcode KindProvider} per POSIX kind, for `listIpcObjects()` and `ipckit ls`/`rm`. */
export const posixKinds: Record<"posix-mq" | "posix-sem" | "posix-shm", KindProvider> = {
  "posix-mq": posixMq,
  "posix-sem": posixSem,
  "posix-shm": posixShm,
};
