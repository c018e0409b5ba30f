import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  createSharedMemory,
  createSysvMessageQueue,
  createSysvSemaphoreSet,
  createSysvSharedMemory,
  formatSysvKey,
  IpcError,
  type IpcObjectInfo,
  listIpcObjects,
  removeSharedMemory,
  removeSysvObject,
  sysvIdForKey,
} from "../mod.ts";
import { sysvKinds } from "../lib/sysv_inspect.ts";
import { uniqueName } from "./_helpers.ts";
import { main } from "../lib/cli/main.ts";
import { captureIo } from "../lib/cli/_common.ts";
import { type ObjectRecord, objectRecord } from "../lib/cli/_record.ts";
import { ipcmk, liveIds, sysvTest, tool } from "./_sysv.ts";

/** `ipckit ARGS` in this process. */
async function ipckit(args: string[]) {
  const io = captureIo();
  const code = await main(args, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

function code(c: string) {
  return (e: unknown) => e instanceof IpcError && e.code === c;
}

function find(kind: keyof typeof sysvKinds, id: number): IpcObjectInfo | undefined {
  return sysvKinds[kind].list().find((o) => o.id === id);
}

/** `rw-r-----` → 0o640. */
function symbolic(perms: string): number {
  return [...perms].reduce((m, c) => (m << 1) | (c === "-" ? 0 : 1), 0);
}

/** lsipc's records for the given kind flag, by id. */
async function lsipc(flag: string, cols: string): Promise<Map<number, Record<string, string>>> {
  const json = JSON.parse(await tool("lsipc", [flag, "--json", "-b", "-o", cols]));
  const rows = Object.values(json)[0] as Record<string, string>[];
  return new Map(rows.map((r) => [Number(r.id), r]));
}

/** ipcs rows for the given kind flag, by id: [key, id, owner, perms, ...]. */
async function ipcs(flag: string): Promise<Map<number, string[]>> {
  const rows = (await tool("ipcs", [flag])).split("\n").filter((l) => /^0x/.test(l));
  return new Map(rows.map((l) => l.trim().split(/\s+/)).map((f) => [Number(f[1]), f]));
}

Deno.test(
  "sysvKinds list() agrees with ipcs and lsipc for queues, sets and segments",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ key: "random", mode: 0o640, removeOnClose: true });
    t.add("msg", q.id);
    using s = createSysvSemaphoreSet({ count: 3, mode: 0o604, removeOnClose: true });
    t.add("sem", s.id);
    using m = createSysvSharedMemory({ size: 5000, key: "random", removeOnClose: true });
    t.add("shm", m.id);
    q.trySend("twelve bytes", { type: 1 });
    q.trySend("x", { type: 2 });
    using mem = m.attach();

    const qi = find("sysv-msg", q.id)!;
    const si = find("sysv-sem", s.id)!;
    const mi = find("sysv-shm", m.id)!;
    deepEqual(qi, {
      kind: "sysv-msg",
      key: q.key,
      id: q.id,
      uid: Deno.uid(),
      owner: qi.owner,
      mode: 0o640,
      size: 13,
      messages: 2,
      lastSendPid: Deno.pid,
    });
    equal(si.semaphores, 3);
    equal(si.mode, 0o604);
    equal(si.creatorAlive, undefined, "sets record no creator");
    equal(mi.size, 5000);
    equal(mi.attached, 1);
    equal(mi.creatorPid, Deno.pid);
    equal(mi.creatorAlive, true);

    const [iq, is, im] = [await ipcs("-q"), await ipcs("-s"), await ipcs("-m")];
    deepEqual(iq.get(q.id), [formatSysvKey(q.key), String(q.id), qi.owner, "640", "13", "2"]);
    deepEqual(is.get(s.id), [formatSysvKey(0), String(s.id), si.owner, "604", "3"]);
    deepEqual(im.get(m.id), [formatSysvKey(m.key), String(m.id), mi.owner, "600", "5000", "1"]);

    const lq = (await lsipc("-q", "KEY,ID,OWNER,PERMS,USEDBYTES,MSGS,LSPID,LRPID")).get(q.id)!;
    deepEqual(
      [lq.key, lq.owner, symbolic(lq.perms), Number(lq.usedbytes), Number(lq.msgs)],
      [formatSysvKey(qi.key!), qi.owner, qi.mode, qi.size, qi.messages],
    );
    equal(Number(lq.lspid), qi.lastSendPid);
    equal(Number(lq.lrpid), 0, "nothing received yet");
    equal(qi.lastReceivePid, undefined);
    const lm = (await lsipc("-m", "KEY,ID,OWNER,PERMS,SIZE,NATTCH,CPID,LPID")).get(m.id)!;
    deepEqual(
      [lm.key, lm.owner, symbolic(lm.perms), Number(lm.size), Number(lm.nattch), Number(lm.cpid)],
      [formatSysvKey(mi.key!), mi.owner, mi.mode, mi.size, mi.attached, mi.creatorPid],
    );
    equal(Number(lm.lpid), mi.lastPid);
    mem.detach();
  }),
);

Deno.test(
  "sysvKinds marks a segment whose creator (ipcmk) exited as an orphan",
  sysvTest(async (t) => {
    const id = t.add("shm", await ipcmk(["-M", "64"]));
    const o = find("sysv-shm", id)!;
    equal(o.creatorAlive, false);
    ok(o.creatorPid! > 0);
    sysvKinds["sysv-shm"].remove(String(id));
    ok(!liveIds("shm").has(id));
  }),
);

Deno.test(
  "sysvKinds remove() by id removes each kind; a missing id is ENOENT",
  sysvTest((t) => {
    const q = createSysvMessageQueue();
    const s = createSysvSemaphoreSet();
    const m = createSysvSharedMemory({ size: 8 });
    t.add("msg", q.id);
    t.add("sem", s.id);
    t.add("shm", m.id);
    sysvKinds["sysv-msg"].remove(q.id);
    sysvKinds["sysv-sem"].remove(s.id);
    removeSysvObject("sysv-shm", m.id);
    ok(!liveIds("msg").has(q.id) && !liveIds("sem").has(s.id) && !liveIds("shm").has(m.id));
    throws(
      () => sysvKinds["sysv-msg"].remove(q.id),
      (e) => e instanceof Deno.errors.NotFound && code("ENOENT")(e),
    );
    throws(() => sysvKinds["sysv-sem"].remove("not-a-number"), code("EINVAL"));
    throws(() => removeSysvObject("posix-mq" as never, 1), code("EINVAL"));
    for (const h of [q, s, m]) h.close();
  }),
);

Deno.test(
  "sysvIdForKey() resolves keys like ipcrm -Q; IPC_PRIVATE and unknown keys fail",
  sysvTest((t) => {
    using q = createSysvMessageQueue({ key: "random", removeOnClose: true });
    t.add("msg", q.id);
    equal(sysvIdForKey("sysv-msg", q.key), q.id);
    throws(() => sysvIdForKey("sysv-msg", 0), code("EINVAL"));
    throws(() => sysvIdForKey("sysv-sem", q.key), code("ENOENT"));
  }),
);

Deno.test(
  "ipckit ls --json agrees with sysvKinds; --kind filters; --orphans keeps dead creators",
  sysvTest(async (t) => {
    using m = createSysvSharedMemory({ size: 100, removeOnClose: true });
    t.add("shm", m.id);
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    const orphan = t.add("shm", await ipcmk(["-M", "32"]));
    try {
      const all = await ipckit(["ls", "--json"]);
      equal(all.code, 0, all.stderr);
      const recs = all.stdout.trim().split("\n").map((l) => JSON.parse(l) as ObjectRecord);
      deepEqual(
        recs.find((r) => r.kind === "sysv-shm" && r.id === m.id),
        objectRecord(find("sysv-shm", m.id)!),
      );
      ok(recs.some((r) => r.kind === "sysv-msg" && r.id === q.id));

      const shmOnly = await ipckit(["ls", "--json", "--kind", "sysv-shm"]);
      ok(shmOnly.stdout.trim().split("\n").every((l) => JSON.parse(l).kind === "sysv-shm"));

      const orphans = await ipckit(["ls", "--json", "--orphans"]);
      const ids = orphans.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
      ok(ids.some((r) => r.id === orphan && r.kind === "sysv-shm"), "ipcmk segment listed");
      ok(!ids.some((r) => r.id === m.id && r.kind === "sysv-shm"), "live creator not listed");

      const table = await ipckit(["ls"]);
      ok(table.stdout.split("\n")[0].startsWith("KIND"));
      ok(table.stdout.includes(formatSysvKey(0)));
      equal((await ipckit(["ls", "--kind", "bogus"])).code, 2);
    } finally {
      removeSysvObject("sysv-shm", orphan);
    }
  }),
);

Deno.test(
  "ipckit rm removes System V objects by id and by key, like ipcrm; missing is exit 1, usage exit 2",
  sysvTest(async (t) => {
    const q = createSysvMessageQueue();
    t.add("msg", q.id);
    const s = createSysvSemaphoreSet({ key: "random" });
    t.add("sem", s.id);
    let r = await ipckit(["rm", "sysv-msg", String(q.id)]);
    equal(r.code, 0, r.stderr);
    r = await ipckit(["rm", "sysv-sem", "--key", formatSysvKey(s.key)]);
    equal(r.code, 0, r.stderr);
    ok(!liveIds("msg").has(q.id) && !liveIds("sem").has(s.id));
    r = await ipckit(["rm", "sysv-msg", String(q.id)]);
    equal(r.code, 1);
    ok(r.stderr.includes("ENOENT"));
    equal((await ipckit(["rm", "sysv-msg"])).code, 2);
    equal((await ipckit(["rm", "sysv-msg", "--key", "0"])).code, 2);
    equal((await ipckit(["rm", "bogus", "1"])).code, 2);
    q.close();
    s.close();
  }),
);

Deno.test(
  "listIpcObjects() and ipckit ls list POSIX and System V objects together",
  sysvTest(async (t) => {
    const name = `/${uniqueName("ls")}`;
    using posix = createSharedMemory(name, { size: 64 });
    using sysv = createSysvSharedMemory({ size: 100, removeOnClose: true });
    t.add("shm", sysv.id);
    try {
      const both = listIpcObjects({ kind: ["posix-shm", "sysv-shm"] });
      ok(both.some((o) => o.kind === "posix-shm" && o.name === name && o.size === 64));
      ok(both.some((o) => o.kind === "sysv-shm" && o.id === sysv.id && o.size === 100));
      const r = await ipckit(["ls", "--json", "--kind", "posix-shm", "--kind", "sysv-shm"]);
      equal(r.code, 0, r.stderr);
      const recs = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as ObjectRecord);
      ok(recs.some((o) => o.kind === "posix-shm" && o.name === name && o.mode === "0600"));
      ok(recs.some((o) => o.kind === "sysv-shm" && o.id === sysv.id && o.creatorAlive === true));
      const rm = await ipckit(["rm", "posix-shm", name]);
      equal(rm.code, 0, rm.stderr);
      ok(!listIpcObjects({ kind: "posix-shm" }).some((o) => o.name === name));
    } finally {
      try {
        removeSharedMemory(name);
      } catch { /* removed by the test */ }
    }
    posix.close();
  }),
);
