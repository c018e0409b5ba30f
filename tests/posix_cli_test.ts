import { deepEqual, equal, ok } from "node:assert/strict";
import { removeMessageQueue, removeSemaphore, removeSharedMemory } from "../mod.ts";
import { captureIo, main } from "../lib/cli/main.ts";
import { ipckitProcess, uniqueName } from "./_helpers.ts";

/** Runs the CLI in this process (most tests). */
async function ipckit(args: string[], stdin?: string) {
  const io = captureIo(stdin ?? "");
  const code = await main(args, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

function cleanup(fn: () => void) {
  try {
    fn();
  } catch { /* already removed */ }
}

Deno.test("ipckit mq create/send/recv/info/rm round trip with priorities and --json", async () => {
  const name = "/" + uniqueName("mq");
  try {
    equal(
      (await ipckit(["mq", "create", name, "--max-messages", "3", "--message-size", "100"])).code,
      0,
    );
    equal((await ipckit(["mq", "create", name, "--exclusive"])).code, 1);
    equal((await ipckitProcess(["mq", "send", name, "--priority", "5", "urgent"])).code, 0);
    equal((await ipckit(["mq", "send", name], "one\ntwo\n")).code, 0);
    const full = await ipckit(["mq", "send", name, "--timeout", "100", "overflow"]);
    equal(full.code, 124);
    const info = JSON.parse((await ipckit(["mq", "info", name, "--json"])).stdout);
    equal(info.currentMessages, 3);
    equal(info.maxMessages, 3);
    equal(info.mode, "0600");
    const recv = await ipckit(["mq", "recv", name, "--count", "3", "--json"]);
    deepEqual(recv.stdout.trim().split("\n").map((l) => JSON.parse(l)), [
      { data: "urgent", priority: 5 },
      { data: "one", priority: 0 },
      { data: "two", priority: 0 },
    ]);
    equal((await ipckit(["mq", "recv", name, "--timeout", "100"])).code, 124);
    equal((await ipckit(["mq", "rm", name])).code, 0);
    const gone = await ipckit(["mq", "info", name]);
    equal(gone.code, 1);
    ok(gone.stderr.includes("ENOENT"));
    equal((await ipckit(["mq", "create", "noslash"])).code, 1);
    equal((await ipckit(["mq", "create", name, "--max-messages", "x"])).code, 2);
  } finally {
    cleanup(() => removeMessageQueue(name));
  }
});

Deno.test("ipckit sem create/wait/post/value/rm", async () => {
  const name = "/" + uniqueName("sem");
  try {
    equal((await ipckit(["sem", "create", name, "--value", "1"])).code, 0);
    equal((await ipckit(["sem", "wait", name, "--timeout", "1000"])).code, 0);
    equal((await ipckitProcess(["sem", "wait", name, "--timeout", "100"])).code, 124);
    equal((await ipckit(["sem", "post", name, "--any-owner"])).code, 0);
    equal((await ipckit(["sem", "value", name])).stdout.trim(), "1");
    deepEqual(JSON.parse((await ipckit(["sem", "value", name, "--json"])).stdout), {
      name,
      value: 1,
    });
    equal((await ipckit(["sem", "create", name, "--exclusive"])).code, 1, "EEXIST");
    equal((await ipckit(["sem", "rm", name])).code, 0);
    equal((await ipckit(["sem", "value", name])).code, 1);
  } finally {
    cleanup(() => removeSemaphore(name));
  }
});

Deno.test("ipckit shm create/write/read/info/rm, and ls/rm list and remove objects", async () => {
  const name = "/" + uniqueName("shm");
  try {
    equal((await ipckit(["shm", "create", name, "--size", "16"])).code, 0);
    equal((await ipckit(["shm", "create", name])).code, 2, "--size is required");
    equal((await ipckit(["shm", "write", name, "--offset", "4"], "hello")).code, 0);
    equal((await ipckit(["shm", "write", name, "--offset", "14"], "hello")).code, 2);
    equal(
      (await ipckitProcess(["shm", "read", name, "--offset", "4", "--length", "5"])).stdout,
      "hello",
    );
    equal(
      (await ipckit(["shm", "read", name, "--any-owner", "--offset", "4", "--length", "2"]))
        .stdout,
      "he",
    );
    const info = JSON.parse((await ipckit(["shm", "info", name, "--json"])).stdout);
    equal(info.size, 16);
    const ls = await ipckit(["ls", "--json", "--kind", "posix-shm"]);
    equal(ls.code, 0);
    const mine = ls.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((o) =>
      o.name === name
    );
    deepEqual({ ...mine, owner: undefined, uid: undefined }, {
      kind: "posix-shm",
      name,
      mode: "0600", // ls --json prints modes as octal strings, like shm info
      size: 16,
      owner: undefined,
      uid: undefined,
    });
    equal((await ipckit(["ls", "--kind", "bogus"])).code, 2);
    equal((await ipckit(["rm", "posix-shm", name])).code, 0);
    equal((await ipckit(["shm", "info", name])).code, 1);
    equal((await ipckit(["shm", "rm", name])).code, 1, "already removed: ENOENT");
    equal((await ipckit(["shm", "rm"])).code, 2);
  } finally {
    cleanup(() => removeSharedMemory(name));
  }
});

Deno.test("ipckit ls lists message queues and semaphores (or says how to mount /dev/mqueue)", async () => {
  const mq = "/" + uniqueName("mq");
  const sem = "/" + uniqueName("sem");
  try {
    await ipckit(["mq", "create", mq, "--max-messages", "2", "--message-size", "8"]);
    await ipckit(["mq", "send", mq, "abc"]);
    await ipckit(["sem", "create", sem, "--value", "4"]);
    const ls = await ipckit(["ls", "--json", "--kind", "posix-mq", "--kind", "posix-sem"]);
    equal(ls.code, 0);
    const recs = ls.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const s = recs.find((o) => o.name === sem);
    equal(s?.semaphores, 4);
    const q = recs.find((o) => o.name === mq);
    if (q) {
      equal(q.messages, 1);
      equal(q.size, 3);
    } else {
      ok(ls.stderr.includes("mount -t mqueue"), ls.stderr);
    }
    equal((await ipckit(["rm", "posix-mq", mq])).code, 0);
    equal((await ipckit(["rm", "posix-sem", sem])).code, 0);
  } finally {
    cleanup(() => removeMessageQueue(mq));
    cleanup(() => removeSemaphore(sem));
  }
});
