/**
 * `ipckit kill` as kill(1): its forms, its lists and its exit codes.
 */
import { equal, ok } from "node:assert/strict";
import { captureIo, main } from "../lib/cli/main.ts";
import { realtimeSignalRange } from "../mod.ts";
import { buildC, ipcTaskFlags, spawnReady } from "./_helpers.ts";

const mainPath = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const IPC_FLAGS = ipcTaskFlags(); // what a user of the CLI grants, never -A

async function ipckit(args: string[]) {
  const io = captureIo();
  const code = await main(args, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

/**
 * util-linux kill(1)'s output on Linux with glibc (misc-utils/kill.c and
 * lib/signames.c: names with their aliases, filled into 72 columns).
 */
const UTIL_LINUX_LIST = `HUP INT QUIT ILL TRAP ABRT IOT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM
TERM STKFLT CHLD CLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF
WINCH IO POLL PWR SYS RT<N> RTMIN+<N> RTMAX-<N>
`;
function utilLinuxTable(): string {
  const { min, max } = realtimeSignalRange();
  return [
    " 1 HUP      2 INT      3 QUIT     4 ILL      5 TRAP     6 ABRT    ",
    " 6 IOT      7 BUS      8 FPE      9 KILL    10 USR1    11 SEGV    ",
    "12 USR2    13 PIPE    14 ALRM    15 TERM    16 STKFLT  17 CHLD    ",
    "17 CLD     18 CONT    19 STOP    20 TSTP    21 TTIN    22 TTOU    ",
    "23 URG     24 XCPU    25 XFSZ    26 VTALRM  27 PROF    28 WINCH   ",
    `29 IO      29 POLL    30 PWR     31 SYS     ${min} RTMIN   ${max} RTMAX   `,
  ].join("\n") + "\n";
}

/** The installed kill(1), if it is util-linux's. */
async function installedKill(): Promise<"util-linux" | string> {
  try {
    const v = await new Deno.Command("kill", { args: ["--version"], stdout: "piped" }).output();
    const text = new TextDecoder().decode(v.stdout);
    return text.includes("util-linux") ? "util-linux" : text.trim() || "unknown kill";
  } catch {
    return "no kill(1) on PATH";
  }
}

async function killOutput(args: string[]): Promise<{ code: number; stdout: string }> {
  const o = await new Deno.Command("kill", { args, stdout: "piped", stderr: "piped" }).output();
  return { code: o.code, stdout: new TextDecoder().decode(o.stdout) };
}

Deno.test("ipckit kill -l and -L print util-linux kill(1)'s lists", async () => {
  const l = await ipckit(["kill", "-l"]);
  equal(l.code, 0);
  equal(l.stdout, UTIL_LINUX_LIST);
  equal((await ipckit(["kill", "--list"])).stdout, UTIL_LINUX_LIST);
  const t = await ipckit(["kill", "-L"]);
  equal(t.code, 0);
  equal(t.stdout, utilLinuxTable());
  equal((await ipckit(["kill", "--table"])).stdout, utilLinuxTable());
  const which = await installedKill();
  if (which === "util-linux") {
    equal(l.stdout, (await killOutput(["-l"])).stdout, "installed util-linux kill -l");
    const live = await new Deno.Command("kill", {
      args: ["-L"],
      env: { COLUMNS: "73" },
      stdout: "piped",
    }).output();
    equal(t.stdout, new TextDecoder().decode(live.stdout), "installed util-linux kill -L");
  } else {
    console.log(`kill(1) here is not util-linux's (${which}): compared with its lists by source`);
  }
});

Deno.test("ipckit kill -l translates numbers, exit statuses and names as kill(1) does", async () => {
  const { min } = realtimeSignalRange();
  const cases: [string, string][] = [
    ["15", "TERM"],
    ["143", "TERM"],
    ["9", "KILL"],
    ["137", "KILL"],
    [String(min + 1), "RT1"],
    ["TERM", "15"],
    ["sigusr2", "12"],
    ["RTMIN+1", String(min + 1)],
    ["RT2", String(min + 2)],
  ];
  for (const [arg, want] of cases) {
    const r = await ipckit(["kill", "-l", arg]);
    equal(r.code, 0, r.stderr);
    equal(r.stdout, want + "\n", arg);
  }
  equal((await ipckit(["kill", "--list=15"])).stdout, "TERM\n");
  equal((await ipckit(["kill", "-l", "99"])).code, 2);
  equal((await ipckit(["kill", "-l", "NOPE"])).code, 2);
  // Every name the installed kill(1) knows translates to the same number here.
  const theirs = (await killOutput(["-l"])).stdout.split(/\s+/).filter((n) =>
    /^[A-Z]+\d*$/.test(n)
  );
  ok(theirs.length >= 31, `installed kill -l listed ${theirs.length} names`);
  for (const name of theirs) {
    const want = await killOutput(["-l", name]);
    equal((await ipckit(["kill", "-l", name])).stdout, want.stdout, name);
  }
});

Deno.test("ipckit kill sends with -s SIG, -SIG, -NUM and --signal=SIG, to several pids", async () => {
  const forms = [["-s", "HUP"], ["-HUP"], ["-1"], ["--signal=SIGHUP"], ["--signal", "hup"]];
  for (const form of forms) {
    const a = new Deno.Command("sleep", { args: ["30"] }).spawn();
    const b = new Deno.Command("sleep", { args: ["30"] }).spawn();
    const r = await ipckit(["kill", ...form, String(a.pid), String(b.pid)]);
    equal(r.code, 0, r.stderr);
    equal((await a.status).signal, "SIGHUP", form.join(" "));
    equal((await b.status).signal, "SIGHUP", form.join(" "));
  }
  const c = new Deno.Command("sleep", { args: ["30"] }).spawn();
  equal((await ipckit(["kill", "-0", String(c.pid)])).code, 0, "-0 checks the process exists");
  equal((await ipckit(["kill", String(c.pid)])).code, 0);
  equal((await c.status).signal, "SIGTERM", "TERM by default");
});

Deno.test("ipckit kill -q queues a value (sigqueue), also through --pidfd", async () => {
  const bin = await buildC("sigwait_peer.c");
  const { min } = realtimeSignalRange();
  await using peer = await spawnReady(bin, [String(min + 1), "2"]);
  const pid = String(peer.process.pid);
  equal((await ipckit(["kill", "-q", "4242", "-s", "RTMIN+1", pid])).code, 0);
  equal(await peer.nextLine(), `${min + 1} ${Deno.pid} 4242 -1`);
  equal((await ipckit(["kill", "--pidfd", "--queue", "-7", "-RT1", pid])).code, 0);
  equal(await peer.nextLine(), `${min + 1} ${Deno.pid} -7 -1`);
});

Deno.test("ipckit kill signals process groups as -- -PGID and after the signal", async () => {
  for (const args of [(g: number) => ["-KILL", "--", `-${g}`], (g: number) => ["-9", `-${g}`]]) {
    const child = new Deno.Command("setsid", {
      args: ["sh", "-c", "sleep 30 & echo ready; wait"],
      stdout: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    equal((await reader.read()).value?.trim(), "ready");
    const r = await ipckit(["kill", ...args(child.pid)]);
    equal(r.code, 0, r.stderr);
    equal((await child.status).signal, "SIGKILL");
    await reader.cancel();
  }
});

Deno.test("ipckit kill exits 1 when no signal could be sent and 64 when only some were", async () => {
  const gone = String(4194304 + 7); // above pid_max: cannot exist
  const none = await ipckit(["kill", gone]);
  equal(none.code, 1);
  equal(none.stderr, `ipckit: sending signal to ${gone} failed: No such process\n`);
  const c = new Deno.Command("sleep", { args: ["30"] }).spawn();
  const some = await ipckit(["kill", String(c.pid), gone]);
  equal(some.code, 64, "util-linux kill(1)'s partial success");
  equal((await c.status).signal, "SIGTERM");
  equal((await ipckit(["kill", "--pidfd", gone])).code, 1);
});

Deno.test("ipckit kill rejects bad command lines with exit 2 and one line", async () => {
  for (
    const args of [
      [],
      ["-s"],
      ["-s", "NOPE", "1"],
      ["-NOPE", "1"],
      ["-9"],
      ["firefox"],
      ["--", "-1"],
      ["-q", "x", "1"],
      ["-q", "1", "--", "-5"],
      ["--pidfd", "--", "-5"],
      ["--bogus", "1"],
      ["-s", "TERM", "-s", "HUP", "1"],
    ]
  ) {
    const r = await ipckit(["kill", ...args]);
    equal(r.code, 2, `kill ${args.join(" ")}: ${r.stderr}`);
    equal(r.stderr.trimEnd().split("\n").length, 2, r.stderr);
    ok(r.stderr.includes("ipckit kill --help"), r.stderr);
  }
  const help = await ipckit(["kill", "--help"]);
  equal(help.code, 0);
  ok(help.stdout.startsWith("Usage: ipckit kill"), help.stdout);
});

Deno.test("ipckit kill runs as its own process with the ipc task's permissions", async () => {
  const c = new Deno.Command("sleep", { args: ["30"] }).spawn();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...IPC_FLAGS, "--no-check", mainPath, "kill", "-s", "INT", String(c.pid)],
    stderr: "piped",
  }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  equal((await c.status).signal, "SIGINT");
});
