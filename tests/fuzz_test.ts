/**
 * Issue 11 item 6: the fuzz test. For a bounded time it runs
 * `fixtures/fuzz_child.ts` processes, one after the other, that call every
 * exported function, constructor and handle method of `mod.ts` (enumerated
 * at run time) with generated hostile arguments: sizes, offsets, negative,
 * NaN and huge numbers, bigints, wrong types, null/undefined, detached,
 * resized and shared buffers, closed handles, and objects a second process
 * changed underneath (a truncated shm or semaphore file, a removed queue or
 * System V object).
 *
 * A run fails on any finding not listed in {@linkcode KNOWN}:
 *
 * - **signal**: a child died by a signal (SIGSEGV, SIGBUS, an OOM kill...);
 *   the call it was making is named;
 * - **throw**: a call threw something that is not an `IpcError` (see
 *   `fixtures/fuzz_child.ts` for exactly what is excused: only what the
 *   fuzzer itself handed in, and abort `DOMException`s);
 * - **leak-fd** / **leak-ipc**: a descriptor or IPC object left behind;
 * - **hang**: a child silent for 8 s: a call blocked its thread (a
 *   synchronous wait where none may be).
 *
 * Environment: `IPCKIT_FUZZ_SECONDS` (default 60), `IPCKIT_FUZZ_SEED` (under `CI`,
 * 20261202 unless set, so a gate is replayable; elsewhere random; a
 * run prints its seed; set it to replay the same calls). As root with
 * `unshare`, each child runs in private IPC, PID and mount namespaces with a
 * small private /dev/shm and its own mqueue mount, so hostile ids and pids
 * reach nobody else's objects or processes and System V and queue leaks can
 * be counted; otherwise (or with `IPCKIT_FUZZ_SANDBOX=0`) the children run
 * plainly, the calls that could hurt other programs are not made (pids <= 0,
 * `removeSysvObject`/`removeIpcObject` by id, `remove()` of anything the
 * fuzzer did not create), and only descriptors and /dev/shm are checked for
 * leaks.
 *
 * @module
 */
import { fail } from "node:assert/strict";

const SECONDS = Number(Deno.env.get("IPCKIT_FUZZ_SECONDS") ?? 60);
// CI gates a submission on this test, so it explores a fixed, replayable path
// there (seed 20261202) unless told otherwise; elsewhere every run explores a
// new one. IPCKIT_FUZZ_SEED=random forces a fresh seed in CI too.
const SEED_ENV = Deno.env.get("IPCKIT_FUZZ_SEED") ??
  (Deno.env.get("CI") ? "20261202" : "random");
const SEED = SEED_ENV === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(SEED_ENV);
/** A child that writes nothing for this long is hung in a call. */
const HANG_MS = 8_000;
/** One child's share of the time: long enough to amortise Deno's start-up. */
const CHILD_MS = 12_000;
const child = new URL("./fixtures/fuzz_child.ts", import.meta.url).pathname;

interface Spec {
  target: unknown;
  args: string[];
}

interface Finding {
  problem: "throw" | "leak-fd" | "leak-ipc" | "signal" | "hang";
  target: string;
  detail: string;
  spec?: Spec;
}

/**
 * Failures this test finds that are being fixed elsewhere: EMPTY since the
 * issue 11 fuzz fixes (`changes/11-fuzzfix.md`); a finding now fails the
 * run. Keep it empty: add an entry only for a fault in progress. Each entry is a CLASS of findings (a pattern over
 * {@linkcode keyOf} keys: `problem target: ErrorClass`, where a method
 * target is `recipe.method`, suffixed ` (closed)` or ` (underneath)`), with
 * the family that owns it and one call that shows it. The last test replays
 * every example and FAILS once one no longer reproduces: remove the entry
 * then (and let the random run tell whether the whole class is gone).
 */
const KNOWN: {
  pattern: RegExp;
  owner: string;
  example: Spec | Spec[];
  noReplay?: string;
}[] = [];

// Builders of KNOWN examples: `{ target: fn("parseSysvKey"), args: [] }`,
// `{ target: method("sem", "value", "underneath"), args: [] }`.
// deno-lint-ignore no-unused-vars
function fn(name: string) {
  return { kind: "fn", name };
}
// deno-lint-ignore no-unused-vars
function method(recipe: string, member: string, how = "open") {
  return { kind: "method", recipe, member, how };
}

/** Replays several calls in order in one child. */
async function replayAll(specs: Spec[]): Promise<{ findings: Finding[]; calls: number }> {
  const file = Deno.makeTempFileSync({ prefix: "ipckit-fuzz-replay-" });
  try {
    Deno.writeTextFileSync(file, specs.map((x) => JSON.stringify(x)).join("\n") + "\n");
    return await runChild(["replay-file", file]);
  } finally {
    Deno.removeSync(file);
  }
}

function isKnown(key: string): boolean {
  return KNOWN.some((k) => k.pattern.test(key));
}

/** The key a finding is grouped and listed under. */
function keyOf(f: Finding): string {
  const cls = f.problem === "throw"
    ? f.detail.replace(/^while preparing: /, "").split(":")[0]
    : f.problem === "signal"
    ? f.detail.split(" ")[0]
    : "";
  return `${f.problem} ${f.target}${cls ? `: ${cls}` : ""}`;
}

/** Whether children can run in private namespaces here, and why not. */
function sandboxSupport(): { ok: true } | { ok: false; reason: string } {
  if (Deno.env.get("IPCKIT_FUZZ_SANDBOX") === "0") {
    return { ok: false, reason: "IPCKIT_FUZZ_SANDBOX=0" };
  }
  if (Deno.uid() !== 0) return { ok: false, reason: "not root" };
  try {
    const out = new Deno.Command("unshare", {
      args: ["--ipc", "--pid", "--fork", "--mount-proc", "true"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return out.success ? { ok: true } : { ok: false, reason: "unshare failed" };
  } catch {
    return { ok: false, reason: "no unshare(1)" };
  }
}

const sandbox = sandboxSupport();

const SIGNALS: Record<number, string> = {
  4: "SIGILL",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  11: "SIGSEGV",
  13: "SIGPIPE",
  15: "SIGTERM",
  25: "SIGXFSZ",
};

/**
 * What keeps a child from hurting the machine it shares: it is the OOM
 * killer's first choice, and no file it makes (memfd, shm, tmpfs) may grow
 * past 256 MiB (RLIMIT_FSIZE, with SIGXFSZ ignored so the call fails with
 * EFBIG instead of killing the child). Without the limit, a library that
 * accepts `resize(2 ** 52)` fills the host's memory before the watchdog
 * fires: that is issue 11 item 2 (sizes above MemTotal must be refused up
 * front), which this limit therefore hides; it was found here as a hang of
 * `memfd.resize(2 ** 52)` in posix_fallocate.
 */
const LIMITS = "echo 1000 > /proc/self/oom_score_adj && trap '' XFSZ && ulimit -f 524288";

/** Runs one child; its findings, a `signal` finding if it died. */
async function runChild(args: string[]): Promise<{ findings: Finding[]; calls: number }> {
  const mq = Deno.makeTempDirSync({ prefix: "ipckit-fuzz-mq-" });
  const work = Deno.makeTempDirSync({ prefix: "ipckit-fuzz-work-" });
  let pid = 0;
  try {
    const deno = [Deno.execPath(), "run", "--allow-all", "--no-check", child, ...args];
    // In the sandbox a shell is pid 1 (Deno is not init, so signals act on it as
    // anywhere), mounts a private /dev/shm and an mqueue, and makes the child
    // the OOM killer's first choice.
    const argv = sandbox.ok
      ? [
        "unshare",
        "--ipc",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "sh",
        "-c",
        'mount -t tmpfs -o size=256m tmpfs /dev/shm && mount -t mqueue mqueue "$0" && ' +
        `${LIMITS} && IPCKIT_FUZZ_SANDBOX=1 IPCKIT_FUZZ_MQDIR="$0" IPCKIT_FUZZ_DIR=${work} "$@"`,
        mq,
        ...deno,
      ]
      : ["sh", "-c", `${LIMITS}; IPCKIT_FUZZ_DIR=${work} exec "$@"`, "sh", ...deno];
    const proc = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    pid = proc.pid;
    // A call that blocks the child's thread (a synchronous wait) never lets it
    // finish. The child writes a line to stderr before each call: a child
    // silent for HANG_MS is hung (the slowest legitimate call, a wait given
    // up and then closed, takes about 2 s; the whole child is capped too).
    let hung = false;
    let lastProgress = performance.now();
    const started = performance.now();
    const kill = () => {
      hung = true;
      try {
        proc.kill("SIGKILL");
      } catch { /* exited */ }
    };
    const watchdog = setInterval(() => {
      const now = performance.now();
      if (now - lastProgress > HANG_MS || now - started > budgetOf(args) + 20_000) kill();
    }, 250);
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    const stderrDone = (async () => {
      for await (const chunk of proc.stderr) {
        chunks.push(chunk as Uint8Array<ArrayBuffer>);
        lastProgress = performance.now();
      }
    })();
    const [status, stdout] = await Promise.all([
      proc.status,
      new Response(proc.stdout).arrayBuffer(),
      stderrDone,
    ]);
    clearInterval(watchdog);
    const out = {
      signal: status.signal,
      code: status.code,
      stdout: new Uint8Array(stdout),
      stderr: new Uint8Array(await new Blob(chunks).arrayBuffer()),
    };
    const dec = new TextDecoder();
    const findings: Finding[] = [];
    let calls = 0;
    let finished = false;
    for (const line of dec.decode(out.stdout).split("\n")) {
      if (!line.startsWith("{")) continue;
      const o = JSON.parse(line);
      if (o.type === "finding") findings.push(o);
      if (o.type === "stats") {
        calls = o.calls;
        finished = true;
      }
    }
    const stderr = dec.decode(out.stderr);
    const last = stderr.split("\n").filter((l) => l.startsWith("@ ")).at(-1);
    const code = out.signal
      ? 128 + (Deno.build.os === "linux" ? signalNumber(out.signal) : 0)
      : out.code;
    if (!finished) {
      const sig = hung
        ? "HUNG"
        : code > 128
        ? SIGNALS[code - 128] ?? `signal ${code - 128}`
        : `exit ${code}`;
      const spec: Spec | undefined = last ? JSON.parse(last.slice(2)) : undefined;
      findings.push({
        problem: hung ? "hang" : "signal",
        target: spec ? targetOf(spec) : "?",
        detail: `${sig} during ${last?.slice(2) ?? "start-up"} (child ${
          args.join(" ")
        }); stderr tail: ${
          stderr.split("\n").filter((l) => !l.startsWith("@ ")).slice(-5).join(" | ")
        }`,
        spec,
      });
    }
    return { findings, calls };
  } finally {
    Deno.removeSync(mq, { recursive: true });
    Deno.removeSync(work, { recursive: true });
    // A child that died (outside the sandbox) could not sweep its own names:
    // its /dev/shm objects carry its pid (the shell exec'd Deno).
    if (!sandbox.ok && pid) sweepShm(`ipckitfuzz${pid}x`);
  }
}

function sweepShm(prefix: string): void {
  for (const e of Deno.readDirSync("/dev/shm")) {
    if (e.name.includes(prefix)) Deno.removeSync(`/dev/shm/${e.name}`);
  }
}

function budgetOf(args: string[]): number {
  return args[0] === "run" ? Number(args[2]) : 5000;
}

function signalNumber(name: string): number {
  const n = Object.entries(SIGNALS).find(([, v]) => v === name)?.[0];
  return n ? Number(n) : 0;
}

/** The target's display name, as the child makes it. */
function targetOf(spec: Spec): string {
  const t = spec.target as {
    kind: string;
    name?: string;
    recipe?: string;
    member?: string;
    how?: string;
  };
  if (t.kind === "fn") return t.name!;
  if (t.kind === "new") return `new ${t.name}`;
  const m = t.member!.startsWith("@@") ? `[${t.member!.slice(2)}]` : t.member;
  return `${t.recipe}.${m}${t.how === "open" ? "" : ` (${t.how})`}`;
}

function summary(findings: Finding[]): Map<string, Finding[]> {
  const byKey = new Map<string, Finding[]>();
  for (const f of findings) {
    const k = keyOf(f);
    byKey.set(k, [...(byKey.get(k) ?? []), f]);
  }
  return byKey;
}

function show(byKey: Map<string, Finding[]>): string {
  return [...byKey].map(([k, fs]) =>
    `${k} (${fs.length}x)\n    ${fs[0].detail.slice(0, 400)}\n    replay: ${
      JSON.stringify(fs[0].spec)
    }`
  ).join("\n");
}

Deno.test({
  name: "fuzz: every export and handle method, with hostile arguments, in child processes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    console.log(
      `fuzz: seed ${SEED} (replay with IPCKIT_FUZZ_SEED=${SEED}), ${SECONDS} s, ${
        sandbox.ok ? "in private namespaces" : `without a sandbox (${sandbox.reason})`
      }`,
    );
    const end = performance.now() + SECONDS * 1000;
    const all: Finding[] = [];
    let calls = 0;
    for (let i = 0; performance.now() < end; i++) {
      const budget = Math.max(1000, Math.min(CHILD_MS, end - performance.now()));
      const r = await runChild(["run", String(SEED + i), String(Math.round(budget))]);
      all.push(...r.findings);
      calls += r.calls;
    }
    const byKey = summary(all);
    const known = new Map([...byKey].filter(([k]) => isKnown(k)));
    const fresh = new Map([...byKey].filter(([k]) => !isKnown(k)));
    console.log(`fuzz: ${calls} calls, ${all.length} findings, ${known.size} known kinds`);
    if (known.size) console.log(`known (see KNOWN):\n${show(known)}`);
    if (fresh.size) fail(`fuzz findings (seed ${SEED}):\n${show(fresh)}`);
  },
});

Deno.test({
  name: "fuzz: every KNOWN example still fails (remove the entries fixed)",
  ignore: KNOWN.length === 0,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const fixed: string[] = [];
    for (const { pattern, owner, example, noReplay } of KNOWN) {
      if (noReplay) {
        console.log(`not replayed (${noReplay}): ${owner}: ${pattern}`);
        continue;
      }
      const { findings } = Array.isArray(example)
        ? await replayAll(example)
        : await runChild(["replay", JSON.stringify(example)]);
      if (!findings.some((f) => pattern.test(keyOf(f)))) {
        fixed.push(`${owner}: ${pattern} (example ${JSON.stringify(example)})`);
      }
    }
    if (fixed.length) fail(`KNOWN entries no longer reproduce: remove them\n${fixed.join("\n")}`);
  },
});
