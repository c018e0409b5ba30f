/**
 * `ipckit ls` and `ipckit rm` side by side with util-linux ipcs, lsipc and
 * ipcrm (issue 15). Comparisons that need a quiet host run in a private IPC
 * namespace (`unshare --ipc`, root only), where ids start at 0 and no other
 * test's objects show up; the CLI runs there as a process with the `ipc`
 * task's flags.
 */
import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import {
  createSharedMemory,
  createSysvMessageQueue,
  createSysvSharedMemory,
  formatSysvKey,
  removeSharedMemory,
  removeSysvObject,
} from "../mod.ts";
import { main } from "../lib/cli/main.ts";
import { captureIo, sizeFlag, UsageError } from "../lib/cli/_common.ts";
import type { ObjectRecord } from "../lib/cli/_record.ts";
import { libc } from "../ffi/libc.ts";
import { ipcmk, liveIds, sysvTest, tool } from "./_sysv.ts";

const cli = new URL("../lib/cli/main.ts", import.meta.url).pathname;
/** The `ipc` task's flags (deno.json), never --allow-all. */
const IPC_TASK = `${Deno.execPath()} run --allow-ffi --allow-read --allow-write --allow-env ` +
  `--allow-run --no-check ${cli}`;

async function ipckit(args: string[]) {
  const io = captureIo();
  const code = await main(args, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

const records = (text: string) =>
  text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as ObjectRecord);

function canUnshare(): string | undefined {
  if (Deno.uid() !== 0) return "needs root for unshare --ipc";
  try {
    Deno.statSync("/usr/bin/unshare");
  } catch {
    return "no /usr/bin/unshare";
  }
  return undefined;
}

/** Runs `script` with sh in a fresh IPC namespace; `$IPCKIT` is the CLI with the ipc task's flags. */
async function inNamespace(script: string): Promise<string> {
  const out = await new Deno.Command("unshare", {
    args: ["--ipc", "sh", "-c", script],
    env: { IPCKIT: IPC_TASK },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`namespace script failed: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

const skipReason = canUnshare();
if (skipReason) console.log(`inspect_cli_test: namespace comparisons skipped: ${skipReason}`);

/** Objects every rm case starts from: queues 0 and 1, segments 0 and 1, set 0; keys in $QK $MK $SK. */
const SETUP = "ipcmk -Q >/dev/null; ipcmk -Q >/dev/null; ipcmk -M 4096 >/dev/null; " +
  "ipcmk -M 100 >/dev/null; ipcmk -S 2 >/dev/null; " +
  "QK=$(ipcs -q | awk '/^0x/{print $1; exit}'); " +
  "MK=$(ipcs -m | awk '/^0x/{print $1; exit}'); " +
  "SK=$(ipcs -s | awk '/^0x/{print $1; exit}'); ";

Deno.test({
  name: "ipckit rm takes ipcrm's command lines and leaves what ipcrm leaves, with its exit codes",
  ignore: skipReason !== undefined,
  async fn() {
    const cases = [
      "-q 0 -m 0 -s 0",
      "-Q $QK -M $MK -S $SK",
      "--queue-id 1 --shmem-key $MK --semaphore-id 0",
      "-q0 -m1",
      "shm 0 1",
      "msg 1",
      "sem 0",
      "--all",
      "-a",
      "--all=shm",
      "--all=msg",
      "-q 7 -m 0", // one fails (no queue 7): the segment still goes, exit 1
      "-Q 0x7777 -s 0",
    ];
    for (const c of cases) {
      const run = (tool: string) =>
        inNamespace(
          `${SETUP} ${tool} ${c} 2>/dev/null; echo "rc=$?"; ipcs -q -m -s | awk '/^0x/{print $2}'`,
        );
      const [ipcrm, ours] = [await run("ipcrm"), await run("$IPCKIT rm")];
      equal(ours, ipcrm, `rm ${c}`);
    }
  },
});

Deno.test({
  name: "ipckit ls --limits gives lsipc's limits and usage (and the POSIX queue limits)",
  ignore: skipReason !== undefined,
  async fn() {
    const out = await inNamespace(
      "ipcmk -M 5000 >/dev/null; ipcmk -M 9000 >/dev/null; ipcmk -S 3 >/dev/null; " +
        "ipcmk -Q >/dev/null; lsipc -g -b --noheadings -r -o RESOURCE,LIMIT,USED; echo ---; " +
        "$IPCKIT ls --limits --json",
    );
    const [lsipc, ours] = out.split("---\n");
    const theirs = lsipc.trim().split("\n").map((l) => l.split(/\s+/));
    // JSON.parse would round SHMALL (2^64 - 2^24 - 1): compare the exact digits.
    const mine = ours.trim().split("\n").map((l) => {
      const r = JSON.parse(l);
      const limit = /"limit":(\d+)/.exec(l)![1];
      return [r.resource, limit, r.used === undefined ? "-" : String(r.used)];
    });
    deepEqual(mine.slice(0, theirs.length), theirs);
    const rest = mine.slice(theirs.length).map((r) => r[0]);
    deepEqual(rest, [
      "MQ_QUEUES",
      "MQ_MSGMAX",
      "MQ_MSGSIZEMAX",
      "MQ_MSGDEFAULT",
      "MQ_MSGSIZEDEFAULT",
      "MQ_BYTES",
    ]);
    const table = await ipckit(["ls", "--limits"]);
    equal(table.code, 0, table.stderr);
    match(table.stdout, /^RESOURCE +DESCRIPTION +LIMIT +USED +USE% +SOURCE\n/);
    match(table.stdout, /\nMSGMAX .* \/proc\/sys\/kernel\/msgmax\n/);
  },
});

Deno.test({
  name: "ipckit ls --json shows lsipc's key, perms, lspid, lrpid, cpid, lpid and status",
  ignore: skipReason !== undefined,
  async fn() {
    const out = await inNamespace(
      "ipcmk -Q >/dev/null; ipcmk -M 5000 -p 0640 >/dev/null; " +
        "$IPCKIT sysv msg send --id 0 one two >/dev/null; " +
        "$IPCKIT sysv msg recv --id 0 >/dev/null; " +
        "$IPCKIT sysv shm read --id 0 --length 1 >/dev/null; " +
        "lsipc -q -b --json -o ID,KEY,PERMS,OWNER,USEDBYTES,MSGS,LSPID,LRPID; " +
        "lsipc -m -b --json -o ID,KEY,PERMS,SIZE,NATTCH,CPID,LPID,STATUS; echo ---; " +
        "$IPCKIT ls --json --kind msg --kind shm",
    );
    const [lsipc, ours] = out.split("---\n");
    const [q, m] = lsipc.replace(/}\s*{/, "}\n---\n{").split("---\n").map((t) =>
      (Object.values(JSON.parse(t))[0] as Record<string, unknown>[])[0]
    );
    const [qr, mr] = records(ours);
    // lsipc prints perms as rw-r--r--; ipckit prints "0644".
    const octal = (p: string) =>
      "0" +
      [0, 3, 6].map((i) =>
        [...p.slice(i, i + 3)].reduce((n, c) => (n << 1) | (c === "-" ? 0 : 1), 0)
      ).join("");
    equal(qr.kind, "sysv-msg");
    deepEqual(
      [qr.id, qr.key, qr.keyNumber, qr.mode, qr.owner, qr.size, qr.messages, qr.lspid, qr.lrpid],
      [
        Number(q.id),
        q.key,
        parseInt(String(q.key), 16),
        octal(String(q.perms)),
        q.owner,
        Number(q.usedbytes),
        Number(q.msgs),
        Number(q.lspid),
        Number(q.lrpid),
      ],
    );
    ok(qr.lspid !== qr.lrpid, "sender and receiver were different processes");
    deepEqual(
      [mr.id, mr.key, mr.mode, mr.size, mr.attached, mr.cpid, mr.lpid, mr.dest, mr.locked],
      [
        Number(m.id),
        m.key,
        "0640",
        Number(m.size),
        Number(m.nattch),
        Number(m.cpid),
        Number(m.lpid),
        false,
        false,
      ],
    );
    equal(m.status ?? null, null);
  },
});

Deno.test(
  "ls shows a removed attached segment as dest and a SHM_LOCKed one as locked, like ipcs",
  sysvTest(async (t) => {
    using m = createSysvSharedMemory({ size: 4096, removeOnClose: true });
    t.add("shm", m.id);
    using mem = m.attach();
    const status = async () =>
      (await tool("ipcs", ["-m"])).split("\n").map((l) => l.trim().split(/\s+/))
        .find((f) => f[1] === String(m.id))?.slice(6).join(",") ?? "";
    const ours = async () =>
      records((await ipckit(["ls", "--json", "--kind", "shm"])).stdout).find((r) => r.id === m.id)!;
    deepEqual([(await ours()).dest, (await ours()).locked, await status()], [false, false, ""]);
    if (Deno.uid() === 0) {
      equal(libc().shmctl(m.id, 11, /* SHM_LOCK */ null), 0);
      deepEqual([(await ours()).locked, await status()], [true, "locked"]);
      equal(libc().shmctl(m.id, 12, /* SHM_UNLOCK */ null), 0);
    } else console.log("SHM_LOCK part skipped: needs CAP_IPC_LOCK");
    removeSysvObject("sysv-shm", m.id); // by id, as ipcrm does: this process stays attached
    const r = await ours();
    deepEqual([r.dest, r.key, r.keyNumber], [true, formatSysvKey(0), 0]);
    equal(await status(), "dest");
    const table = await ipckit(["ls", "--kind", "sysv-shm"]);
    ok(table.stdout.split("\n").some((l) => l.includes(` id ${m.id} `) && / dest /.test(l)));
    mem.detach();
  }),
);

Deno.test(
  "ipckit rm removes several objects per call, reports each failure and exits 1",
  sysvTest(async (t) => {
    const a = t.add("shm", await ipcmk(["-M", "64"]));
    const b = t.add("shm", await ipcmk(["-M", "64"]));
    using q = createSysvMessageQueue({ key: "random" });
    t.add("msg", q.id);
    let r = await ipckit(["rm", "shm", String(a), "2147483646", String(b)]);
    equal(r.code, 1);
    equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    match(r.stderr, /^ipckit: shmctl\(IPC_RMID\) "shmid 2147483646": .*ENOENT/);
    ok(!liveIds("shm").has(a) && !liveIds("shm").has(b));
    r = await ipckit(["rm", "-v", "-Q", formatSysvKey(q.key), "-Q", "0x7ffffff1"]);
    equal(r.code, 1);
    equal(r.stdout, `removed sysv-msg -Q ${formatSysvKey(q.key)}\n`);
    match(r.stderr, /0x7ffffff1/);
    ok(!liveIds("msg").has(q.id));
    r = await ipckit(["rm", "msg", String(q.id)]);
    equal(r.code, 1);
    for (
      const bad of [["rm", "shm"], ["rm", "shm", "-1"], ["rm", "-m"], ["rm", "--all=posix-shm"]]
    ) {
      r = await ipckit(bad);
      equal(r.code, 2, `${bad.join(" ")}: ${r.stderr}`);
      equal(r.stderr.trim().split("\n").length, 2);
    }
  }),
);

Deno.test("ipckit ls --kind takes shm, msg and sem like ipcrm", async () => {
  for (const [alias, kind] of [["shm", "sysv-shm"], ["msg", "sysv-msg"], ["sem", "sysv-sem"]]) {
    const r = await ipckit(["ls", "--json", "--kind", alias]);
    equal(r.code, 0, r.stderr);
    ok(records(r.stdout).every((o) => o.kind === kind));
  }
});

Deno.test("sizeFlag: util-linux suffixes, K = KiB = 1024, KB = 1000, errors are usage errors", () => {
  const cases: [string, number][] = [
    ["4096", 4096],
    ["4k", 4096],
    ["4K", 4096],
    ["4KiB", 4096],
    ["4kib", 4096],
    ["64KiB", 65536],
    ["1M", 1 << 20],
    ["1MiB", 1 << 20],
    ["2G", 2 * 1024 ** 3],
    ["1T", 1024 ** 4],
    ["1kB", 1000],
    ["1KB", 1000],
    ["1MB", 1e6],
    ["1GB", 1e9],
    ["7B", 7],
    ["7b", 7],
  ];
  for (const [text, n] of cases) equal(sizeFlag(text, "size"), n, text);
  equal(sizeFlag(undefined, "size"), undefined);
  for (const bad of ["", "-1", "1.5K", "4q", "K", "0x10", "1 KiBB", "99999999999T", "4 k k"]) {
    throws(() => sizeFlag(bad, "size"), UsageError, bad);
  }
  throws(() => sizeFlag("0", "size", { min: 1 }), /--size must be a size in bytes between 1/);
  throws(() => sizeFlag("2K", "message-size", { max: 1024 }), /--message-size/);
});

Deno.test(
  "size flags take suffixes everywhere: sysv mk --size 4k, recv --message-size 1K",
  sysvTest(async (t) => {
    let r = await ipckit(["sysv", "mk", "sysv-shm", "--size", "4k", "--json"]);
    equal(r.code, 0, r.stderr);
    const { id } = JSON.parse(r.stdout);
    t.add("shm", id);
    const seg = records((await ipckit(["ls", "--json", "--kind", "shm"])).stdout)
      .find((o) => o.id === id)!;
    equal(seg.size, 4096);
    equal((await ipckit(["rm", "shm", String(id)])).code, 0);
    r = await ipckit(["sysv", "mk", "sysv-shm", "--size", "1MB", "--json"]);
    equal(r.code, 0, r.stderr);
    const big = t.add("shm", JSON.parse(r.stdout).id);
    equal(
      records((await ipckit(["ls", "--json", "--kind", "shm"])).stdout)
        .find((o) => o.id === big)!.size,
      1_000_000,
    );
    equal((await ipckit(["rm", "-m", String(big)])).code, 0);
    r = await ipckit(["sysv", "mk", "sysv-shm", "--size", "-1"]);
    equal(r.code, 2);
    match(r.stderr, /^ipckit: --size must be a size in bytes between 1 and \d+ \(like 4096/);
    for (
      const args of [["shm", "create", "/x", "--size", "1.5k"], [
        "mq",
        "create",
        "/x",
        "--message-size",
        "2q",
      ]]
    ) {
      r = await ipckit(args);
      equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    }
  }),
);

Deno.test("ls survives planted semaphore files: empty, short, a symlink, a FIFO (no SIGBUS)", async () => {
  const tag = `ipckit-plant-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const files = {
    empty: `/dev/shm/sem.${tag}-empty`,
    short: `/dev/shm/sem.${tag}-short`,
    link: `/dev/shm/sem.${tag}-link`,
    fifo: `/dev/shm/sem.${tag}-fifo`,
  };
  try {
    Deno.writeFileSync(files.empty, new Uint8Array(0));
    Deno.writeFileSync(files.short, new Uint8Array([5, 0, 0]));
    Deno.symlinkSync("/etc/hostname", files.link);
    await new Deno.Command("mkfifo", { args: [files.fifo] }).output();
    // In a child: a SIGBUS there is a failed test, not a dead test runner.
    const out = await new Deno.Command(Deno.execPath(), {
      args: IPC_TASK.split(" ").slice(1).concat(["ls", "--json", "--kind", "posix-sem"]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.signal, null, "no death by a signal");
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const mine = records(new TextDecoder().decode(out.stdout)).filter((r) => r.name?.includes(tag));
    equal(mine.filter((r) => r.semaphores !== undefined).length, 0, JSON.stringify(mine));
    ok(mine.some((r) => r.name === `/${tag}-empty`));
  } finally {
    for (const f of Object.values(files)) {
      try {
        Deno.removeSync(f);
      } catch { /* not made */ }
    }
  }
});

Deno.test(
  "sysv info prints the same record as ls --json, by id or key",
  sysvTest(async (t) => {
    using q = createSysvMessageQueue({ key: "random", removeOnClose: true });
    t.add("msg", q.id);
    q.trySend("x");
    const fromLs = records((await ipckit(["ls", "--json", "--kind", "msg"])).stdout)
      .find((r) => r.id === q.id);
    for (const args of [["--id", String(q.id)], ["--key", formatSysvKey(q.key)]]) {
      const r = await ipckit(["sysv", "info", "msg", ...args, "--json"]);
      equal(r.code, 0, r.stderr);
      deepEqual(JSON.parse(r.stdout), fromLs);
    }
    const text = await ipckit(["sysv", "info", "sysv-msg", "--id", String(q.id)]);
    match(text.stdout, new RegExp(`^kind: sysv-msg\nkey: ${formatSysvKey(q.key)}\n`));
    equal((await ipckit(["sysv", "info", "msg", "--id", "2147483646"])).code, 1);
    equal((await ipckit(["sysv", "info", "msg"])).code, 2);
  }),
);

Deno.test("ipckit rm posix-shm takes several names and reports each one that failed", async () => {
  const tag = `ipckit-rmmany-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const [a, b] = [`/${tag}-a`, `/${tag}-b`];
  createSharedMemory(a, { size: 8 }).close();
  createSharedMemory(b, { size: 8 }).close();
  try {
    const r = await ipckit(["rm", "-v", "posix-shm", a, `/${tag}-missing`, b]);
    equal(r.code, 1);
    equal(r.stdout, `removed posix-shm ${a}\nremoved posix-shm ${b}\n`);
    equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    match(r.stderr, /missing.*ENOENT/);
    equal((await ipckit(["rm", "posix-shm", "--key", "0x1", a])).code, 2);
  } finally {
    for (const n of [a, b]) {
      try {
        removeSharedMemory(n);
      } catch { /* removed by the test */ }
    }
  }
});
