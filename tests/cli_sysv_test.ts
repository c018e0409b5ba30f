import { deepEqual, equal, ok } from "node:assert/strict";
import {
  createSysvMessageQueue,
  createSysvSemaphoreSet,
  createSysvSharedMemory,
  formatSysvKey,
  openSysvMessageQueue,
  openSysvSemaphoreSet,
} from "../mod.ts";
import { main } from "../lib/cli/main.ts";
import { captureIo } from "../lib/cli/_common.ts";
import { liveIds, runPeer, sysvTest } from "./_sysv.ts";

const cli = new URL("../lib/cli/main.ts", import.meta.url);

/** `ipckit ARGS` in this process, with `stdin`. */
async function ipckit(args: string[], stdin = "") {
  const io = captureIo(stdin);
  const code = await main(args, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

/** `ipckit ARGS` as its own process, with the `ipc` task's flags (never -A). */
async function ipckitProcess(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-run",
      "--no-check",
      cli.pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test(
  "ipckit sysv msg send/recv move messages by type, as text or JSON",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ key: "random", removeOnClose: true });
    t.add("msg", q.id);
    let r = await ipckit(["sysv", "msg", "send", "--id", String(q.id), "one", "two"]);
    equal(r.code, 0, r.stderr);
    r = await ipckit(
      ["sysv", "msg", "send", "--key", formatSysvKey(q.key), "--type", "5"],
      "bytes\n",
    );
    equal(r.code, 0, r.stderr);
    r = await ipckit(["sysv", "msg", "recv", "--id", String(q.id), "--type", "5", "--json"]);
    deepEqual(JSON.parse(r.stdout), { type: 5, size: 6, text: "bytes\n" });
    r = await ipckit(["sysv", "msg", "recv", "--id", String(q.id), "--count", "2"]);
    equal(r.stdout, "one\ntwo\n");
    q.trySend(new Uint8Array([0xff, 0]), { type: 2 });
    r = await ipckit(["sysv", "msg", "recv", "--id", String(q.id), "--json"]);
    deepEqual(JSON.parse(r.stdout), { type: 2, size: 2, base64: "/wA=" });
  }),
);

Deno.test(
  "ipckit sysv msg recv exits 124 on timeout, 1 for a missing queue, 2 for bad usage",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    let r = await ipckit(["sysv", "msg", "recv", "--id", String(q.id), "--timeout", "100"]);
    equal(r.code, 124);
    r = await ipckit(["sysv", "msg", "recv", "--key", "0x7ffffff3"]);
    equal(r.code, 1);
    ok(r.stderr.includes("ENOENT"));
    equal((await ipckit(["sysv", "msg", "recv"])).code, 2);
    equal((await ipckit(["sysv", "msg", "recv", "--id", "1", "--key", "1"])).code, 2);
    equal((await ipckit(["sysv", "msg", "recv", "--key", "0xnope"])).code, 2);
    equal((await ipckit(["sysv", "msg", "send", "--id", "1", "--type", "0", "x"])).code, 2);
    equal((await ipckit(["sysv", "msg", "recv", "--id", "1", "--except"])).code, 2);
  }),
);

Deno.test(
  "ipckit sysv msg recv waits for a message from another process",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ removeOnClose: true });
    t.add("msg", q.id);
    const recv = ipckit(["sysv", "msg", "recv", "--id", String(q.id), "--timeout", "5000"]);
    await new Promise((r) => setTimeout(r, 300));
    equal((await runPeer(["msg-send", String(q.id), "1", "from C"])).code, 0);
    const r = await recv;
    equal(r.code, 0, r.stderr);
    equal(r.stdout, "from C\n");
  }),
);

Deno.test(
  "ipckit sysv sem op/get/set change and show values atomically",
  sysvTest(async (t) => {
    using s = createSysvSemaphoreSet({ count: 3, key: "random", removeOnClose: true });
    t.add("sem", s.id);
    const id = ["--id", String(s.id)];
    let r = await ipckit(["sysv", "sem", "set", ...id, "--all", "2", "0", "1"]);
    equal(r.code, 0, r.stderr);
    r = await ipckit(["sysv", "sem", "op", ...id, "0:-1", "1:+3", "2:-1"]);
    equal(r.code, 0, r.stderr);
    deepEqual(s.values(), [1, 3, 0]);
    r = await ipckit(["sysv", "sem", "get", "--key", formatSysvKey(s.key), "1"]);
    equal(r.stdout, "3\n");
    r = await ipckit(["sysv", "sem", "get", ...id, "--json"]);
    const recs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    deepEqual(recs.map((x) => x.value), [1, 3, 0]);
    ok(recs[1].pid > 0);
    r = await ipckit(["sysv", "sem", "set", ...id, "2", "9"]);
    equal(r.code, 0);
    equal(s.value(2), 9);
    r = await ipckit(["sysv", "sem", "op", ...id, "0:-2", "--timeout", "100"]);
    equal(r.code, 124);
    deepEqual(s.values(), [1, 3, 9], "nothing applied on timeout");
    // SEM_UNDO is reverted when the process exits: a real process.
    r = await ipckitProcess(["sysv", "sem", "op", ...id, "0:-1", "undo"]);
    equal(r.code, 0, r.stderr);
    equal(s.value(0), 1, "SEM_UNDO reverted at exit");
    equal((await ipckit(["sysv", "sem", "op", ...id, "7:-1"])).code, 1);
    equal((await ipckit(["sysv", "sem", "op", ...id, "zero"])).code, 2);
    equal((await ipckit(["sysv", "sem", "set", ...id, "0", "40000"])).code, 1);
    equal((await ipckit(["sysv", "sem", "set", ...id, "--all", "1"])).code, 2);
  }),
);

Deno.test(
  "ipckit sysv shm write/read copy bytes in and out at an offset",
  sysvTest(async (t) => {
    using m = createSysvSharedMemory({ size: 32, removeOnClose: true });
    t.add("shm", m.id);
    const id = ["--id", String(m.id)];
    let r = await ipckit(["sysv", "shm", "write", ...id, "--offset", "4", "hello"]);
    equal(r.code, 0, r.stderr);
    r = await ipckit(["sysv", "shm", "write", ...id, "--offset", "10"], "stdin!");
    equal(r.code, 0, r.stderr);
    r = await ipckit(["sysv", "shm", "read", ...id, "--offset", "4", "--length", "12"]);
    equal(r.stdout, "hello\0stdin!");
    equal((await runPeer(["shm-read", String(m.id), "4", "5"])).out, "hello");
    r = await ipckit(["sysv", "shm", "write", ...id, "--offset", "30", "too long"]);
    equal(r.code, 1);
    equal((await ipckit(["sysv", "shm", "read", ...id, "--length", "33"])).code, 2);
    equal(m.stat().attached, 0, "the CLI detached");
  }),
);

Deno.test(
  "ipckit sysv mk creates each kind with exact mode and key, like ipcmk",
  sysvTest(async (t) => {
    let r = await ipckit(["sysv", "mk", "sysv-msg", "--mode", "0640", "--json", "--key", "random"]);
    equal(r.code, 0, r.stderr);
    const rec = JSON.parse(r.stdout);
    t.add("msg", rec.id);
    using q = openSysvMessageQueue({ id: rec.id, removeOnClose: true });
    equal(q.key, rec.key);
    equal(q.stat().perm.mode, 0o640);
    r = await ipckit(["sysv", "mk", "sysv-sem", "--semaphores", "4"]);
    const sid = t.add("sem", Number(r.stdout));
    r = await ipckit(["sysv", "mk", "sysv-shm", "--size", "128"]);
    const mid = t.add("shm", Number(r.stdout));
    ok(liveIds("sem").has(sid) && liveIds("shm").has(mid));
    equal(openSysvSemaphoreSet({ id: sid }).count, 4);
    equal((await ipckit(["rm", "sysv-sem", String(sid)])).code, 0);
    equal((await ipckit(["rm", "sysv-shm", String(mid)])).code, 0);
    equal((await ipckit(["sysv", "mk", "sysv-shm"])).code, 2);
    equal(
      (await ipckit(["sysv", "mk", "sysv-sem", "--count", "4"])).code,
      2,
      "--count is not mk's",
    );
  }),
);

Deno.test(
  "ipckit ls and rm work with the ipc task's flags (no --allow-all for /proc/sysvipc)",
  sysvTest(async (t) => {
    const q = createSysvMessageQueue({ key: "random" });
    t.add("msg", q.id);
    let r = await ipckitProcess(["ls", "--json", "--kind", "sysv-msg"]);
    equal(r.code, 0, r.stderr);
    const recs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    ok(recs.some((o) => o.id === q.id && o.keyNumber === q.key), r.stdout);
    using shm = createSysvSharedMemory({ size: 64, removeOnClose: true });
    t.add("shm", shm.id);
    r = await ipckitProcess(["ls", "--json", "--kind", "sysv-shm"]);
    equal(r.code, 0, r.stderr);
    const segs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    ok(segs.some((o) => o.id === shm.id && o.creatorAlive === true), r.stdout);
    r = await ipckitProcess(["rm", "sysv-msg", String(q.id)]);
    equal(r.code, 0, r.stderr);
    ok(!liveIds("msg").has(q.id));
    q.close();
  }),
);

Deno.test(
  "ipckit rm and sysv usage errors name the argument, exit 2",
  sysvTest(async () => {
    const r = await ipckit(["rm", "sysv-msg", "abc"]);
    equal(r.code, 2);
    ok(!r.stderr.includes("--ID"), r.stderr);
    ok(r.stderr.includes("ID must be"), r.stderr);
    const s = await ipckit(["sysv", "sem", "get", "--id", "0", "x"]);
    ok(!s.stderr.includes("--INDEX"), s.stderr);
    equal((await ipckit(["sysv", "msg", "recv", "--key", "-1"])).code, 2, "key -1 is refused");
    equal((await ipckit(["sysv", "msg", "recv", "--key", "0xffffffff"])).code, 2);
  }),
);
