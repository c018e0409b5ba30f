/**
 * `ipckit lock PATH [options] -- COMMAND [ARGS...]`: run a command while
 * holding a `flock` lock on PATH, like util-linux `flock(1)` (and excluding
 * it on the same file); `ipckit lock who PATH`: who holds locks on a file.
 *
 * @module
 */
import { type FileLock, lockHolders, openLockFile } from "../lock.ts";
import { IpcError } from "../_errors.ts";
import { withInheritedFds } from "../fd.ts";
import { signalNumber } from "../signal.ts";
import { type Command, type Context, EXIT, intFlag, parse, UsageError } from "./_common.ts";

const usage = `Usage: ipckit lock [options] PATH [--] COMMAND [ARGS...]
       ipckit lock who PATH [--json]

Runs COMMAND while holding a flock(2) lock on PATH (created with mode 0600 if
missing), like util-linux flock(1): both exclude each other on the same file.
The lock descriptor is inherited by COMMAND (as with flock(1)), so the lock
lasts until COMMAND and everything it started have exited. Without "--", the
command starts at the first argument after PATH.

Options:
  -x, --exclusive              exclusive lock (default)
  -s, --shared                 shared lock
  -n, --nonblock               fail at once if the lock is taken (exit 1)
      --timeout MS             give up after MS milliseconds (exit 124)
  -w, --wait SECONDS           the same in seconds, as flock(1) -w (fractions allowed)
  -E, --conflict-exit-code N   exit code for a busy lock (-n) or a timeout
  -o, --close                  do not pass the lock descriptor to COMMAND
      --any-owner              accept a lock file another user owns or others may write
  -h, --help                   this help

Exit codes: COMMAND's own code (128+N if it died of signal N); 1 busy with -n,
124 timeout (both N with -E); 126/127 COMMAND not executable / not found;
2 usage; 1 other errors.`;

interface LockArgs {
  path: string;
  command: string[];
  shared: boolean;
  nonblock: boolean;
  timeout?: number;
  conflictCode?: number;
  close: boolean;
  anyOwner: boolean;
}

const VALUE_FLAGS = new Set(["--timeout", "-w", "--wait", "-E", "--conflict-exit-code"]);

function parseLockArgs(ctx: Context, args: string[]): LockArgs | null {
  const a: LockArgs = {
    path: "",
    command: [],
    shared: false,
    nonblock: false,
    close: false,
    anyOwner: false,
  };
  let path: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    let tok = args[i];
    if (tok === "--") {
      a.command = args.slice(i + 1);
      break;
    }
    if (path !== undefined && !tok.startsWith("-")) {
      a.command = args.slice(i); // flock(1) form without "--"
      break;
    }
    if (!tok.startsWith("-") || tok === "-") {
      path = tok;
      continue;
    }
    let value: string | undefined;
    const eq = tok.indexOf("=");
    if (tok.startsWith("--") && eq > 0) {
      value = tok.slice(eq + 1);
      tok = tok.slice(0, eq);
    }
    if (VALUE_FLAGS.has(tok) && value === undefined) {
      value = args[++i];
      if (value === undefined) throw new UsageError(`${tok} needs a value`);
    }
    switch (tok) {
      case "-h":
      case "--help":
        ctx.out(usage);
        return null;
      case "-x":
      case "--exclusive":
        a.shared = false;
        break;
      case "-s":
      case "--shared":
        a.shared = true;
        break;
      case "-n":
      case "--nonblock":
        a.nonblock = true;
        break;
      case "-o":
      case "--close":
        a.close = true;
        break;
      case "--any-owner":
        a.anyOwner = true;
        break;
      case "--timeout":
        a.timeout = intFlag(value, "timeout");
        break;
      case "-w":
      case "--wait": {
        const secs = /^\d+(\.\d+)?$/.test(value!) ? Number(value) : NaN;
        if (!Number.isFinite(secs)) {
          throw new UsageError(`-w takes seconds (like 2 or 0.5), got "${value}"`);
        }
        a.timeout = Math.round(secs * 1000);
        break;
      }
      case "-E":
      case "--conflict-exit-code":
        a.conflictCode = intFlag(value, "conflict-exit-code", { max: 255 });
        break;
      default:
        throw new UsageError(`unknown option "${tok}"`);
    }
  }
  if (path === undefined) throw new UsageError(`missing PATH`);
  if (a.command.length === 0) throw new UsageError(`missing COMMAND`);
  a.path = path;
  return a;
}

async function runLocked(ctx: Context): Promise<number> {
  const a = parseLockArgs(ctx, ctx.args);
  if (!a) return EXIT.ok;
  // Read-only is enough for flock(2), and is how flock(1) opens the file:
  // a lock file another user created with mode 0644 can still be locked.
  using file = openLockFile(a.path, {
    create: true,
    readOnly: true,
    trust: a.anyOwner ? "any" : "owner",
  });
  let lock: FileLock | null;
  if (a.nonblock) {
    lock = file.tryLock({ shared: a.shared });
    if (lock === null) return a.conflictCode ?? EXIT.error;
  } else {
    try {
      lock = await file.lock({ shared: a.shared, timeout: a.timeout });
    } catch (e) {
      if (e instanceof IpcError && e.code === "ETIMEDOUT") return a.conflictCode ?? EXIT.timeout;
      throw e;
    }
  }
  // No explicit unlock at the end: the command may have left a process that
  // inherited the descriptor (flock(1) semantics); closing ours is enough.
  void lock;
  // The child inherits the lock descriptor (flock(1) semantics) unless -o.
  const spawn = () =>
    new Deno.Command(a.command[0], {
      args: a.command.slice(1),
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  let child: Deno.ChildProcess;
  try {
    child = a.close ? spawn() : withInheritedFds([file], spawn);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      ctx.err(`ipckit: ${a.command[0]}: command not found`);
      return 127;
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      ctx.err(`ipckit: ${a.command[0]}: permission denied`);
      return 126;
    }
    throw e;
  }
  return await exitCode(child);
}

/** The command's exit code as a shell reports it: 128+N if it died of signal N. */
async function exitCode(child: Deno.ChildProcess): Promise<number> {
  try {
    const status = await child.status;
    return status.signal === null ? status.code : 128 + signalNumber(status.signal);
  } catch (e) {
    // Deno rejects ChildProcess.status with "TypeError: Invalid signal: 35"
    // when the child died of a realtime signal; it is reaped all the same,
    // and the message carries the number.
    const m = e instanceof TypeError ? /Invalid signal: (\d+)/.exec(e.message) : null;
    if (m) return 128 + Number(m[1]);
    throw e;
  }
}

const who: Command = {
  summary: "list who holds or waits for locks on a file",
  run(ctx) {
    const whoUsage = "Usage: ipckit lock who PATH [--json]\n\nLists every lock on PATH " +
      "from /proc/locks (flock, OFD and POSIX; holders and waiters) with pid and command,\n" +
      "plus the holder F_GETLK reports for a whole-file write lock.";
    const p = parse(ctx, { json: { type: "boolean" } }, whoUsage);
    if (!p) return EXIT.ok;
    if (p.positionals.length !== 1) throw new UsageError("expected one PATH");
    const path = p.positionals[0];
    const holders = lockHolders(path);
    let getlk = null;
    try {
      using f = openLockFile(path, { readOnly: true, trust: "any" }); // only asks F_GETLK
      getlk = f.test({ kind: "posix", start: 0, length: 0 });
    } catch { /* not a regular file we can open: /proc/locks still answers */ }
    if (p.values.json) {
      for (const h of holders) ctx.json({ path, ...h });
      if (getlk) ctx.json({ path, getlk });
    } else {
      if (holders.length === 0) ctx.out(`${path}: not locked`);
      for (const h of holders) {
        const range = `${h.start}-${h.end ?? "EOF"}`;
        const pid = h.pid === null ? "pid ?" : `pid ${h.pid}${h.command ? ` (${h.command})` : ""}`;
        ctx.out(
          `${h.waiting ? "waiting " : ""}${h.kind.padEnd(5)} ${h.shared ? "READ " : "WRITE"} ` +
            `${pid} ${range}`,
        );
      }
      if (getlk?.pid) ctx.out(`F_GETLK: a write lock would conflict with pid ${getlk.pid}`);
    }
    return EXIT.ok;
  },
};

/** The `lock` command: `ipckit lock PATH -- COMMAND` and `ipckit lock who PATH`. */
export const lockCommand: Command = {
  summary: "run a command under a flock(1)-compatible lock; 'lock who PATH' lists holders",
  run(ctx) {
    const args = ctx.args;
    if (args[0] === "who" && !args.includes("--")) return who.run(ctx.sub("who", args.slice(1)));
    return runLocked(ctx);
  },
};
