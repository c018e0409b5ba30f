/**
 * `ipckit lock`: util-linux `flock(1)`'s command line on ipckit's locks (the
 * two exclude each other on the same file), plus `ipckit lock who PATH`,
 * who holds locks on a file.
 *
 * ```sh
 * ipckit lock /tmp/job.lock make            # flock /tmp/job.lock make
 * ipckit lock -n /tmp/job.lock -c 'make'    # flock -n /tmp/job.lock -c 'make'
 * ( ipckit lock -n 9 || exit 1; make ) 9>/tmp/job.lock
 * ```
 *
 * @module
 */
import type { FileLock } from "../lock.ts";
import { LockFile, unlockRange } from "../_lock_file.ts";
import { openChecked } from "../_lock_open.ts";
import { IpcError } from "../_errors.ts";
import { errnoDescription } from "../../ffi/errno.ts";
import { withInheritedFds } from "../fd.ts";
import { signalNumber } from "../signal.ts";
import { execProgram } from "../_signal_mask.ts";
import { type Command, type Context, EXIT } from "./_common.ts";
import { FLOCK, type LockArgs, parseLockArgs } from "./_lock_args.ts";
import { lockWho } from "./_lock_who.ts";
import { cliIsProcess } from "./signal.ts";

/** Opens the lock target as flock(1) does, or reports why not (flock's exit codes). */
function openTarget(ctx: Context, a: LockArgs): LockFile | number {
  if (a.fd !== undefined) {
    try {
      return new LockFile(a.fd, String(a.fd));
    } catch (e) {
      if (!(e instanceof IpcError)) throw e;
      ctx.err(`ipckit: ${a.fd}: ${errnoDescription(e.errno)}`);
      return FLOCK.dataErr;
    }
  }
  try {
    // Read-only is all flock(2) needs, and how flock(1) opens. No owner
    // check: nothing is read or written, and anyone who can open a file can
    // flock it, so a planted file can do nothing a neighbour could not do to
    // a file of ours; a lock file shared between users works, as with
    // flock(1). Symlinks (O_NOFOLLOW) and FIFOs/devices are still refused.
    return openChecked(a.target, {
      create: { mode: a.mode },
      readOnly: true,
      trust: "any",
    }, { directory: true }).file;
  } catch (e) {
    if (!(e instanceof IpcError)) throw e;
    ctx.err(`ipckit: cannot open lock file ${a.target}: ${e.message}`);
    if (["ENOMEM", "EMFILE", "ENFILE"].includes(e.code)) return FLOCK.osErr;
    if (["EROFS", "ENOSPC"].includes(e.code)) return FLOCK.cantCreate;
    return FLOCK.noInput;
  }
}

/** Takes (or with -u drops) the lock: `null` once held, else the exit code. */
async function takeLock(ctx: Context, a: LockArgs, file: LockFile): Promise<number | null> {
  if (a.unlock) {
    unlockRange(file, { kind: "flock", shared: false, start: 0, length: 0 });
    return null;
  }
  const t0 = performance.now();
  let lock: FileLock | null;
  try {
    lock = a.nonblock
      ? file.tryLock({ shared: a.shared })
      : await file.lock({ shared: a.shared, timeout: a.timeout });
  } catch (e) {
    if (e instanceof IpcError && e.code === "ETIMEDOUT") {
      if (a.verbose) ctx.err("ipckit: timeout while waiting to get lock");
      return a.ipckitTimeout && a.conflictCode === 1 ? EXIT.timeout : a.conflictCode;
    }
    if (e instanceof IpcError) {
      ctx.err(`ipckit: ${a.fd ?? a.target}: ${errnoDescription(e.errno)}`);
      return FLOCK.dataErr;
    }
    throw e;
  }
  if (lock === null) {
    if (a.verbose) ctx.err("ipckit: failed to get lock");
    return a.conflictCode;
  }
  if (a.verbose) {
    const us = Math.round((performance.now() - t0) * 1000);
    ctx.out(
      `ipckit: getting lock took ${Math.floor(us / 1e6)}.${
        String(us % 1e6).padStart(6, "0")
      } seconds`,
    );
  }
  // No explicit unlock later: closing our descriptor is enough, and a
  // process the command left behind keeps the lock (flock(1) semantics).
  return null;
}

/** `PATH` lookup as execvp does it: the program to exec, or `null`. */
function findProgram(name: string): string | null {
  if (name.includes("/")) return name;
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    const path = `${dir || "."}/${name}`;
    try {
      const st = Deno.statSync(path);
      if (st.isFile && ((st.mode ?? 0) & 0o111) !== 0) return path;
    } catch { /* not there */ }
  }
  return null;
}

async function runLocked(ctx: Context): Promise<number> {
  const a = parseLockArgs(ctx, ctx.args);
  if (!a) return EXIT.ok;
  const opened = openTarget(ctx, a);
  if (typeof opened === "number") return opened;
  const file = opened;
  try {
    const failed = await takeLock(ctx, a, file);
    if (failed !== null) return failed;
    if (a.command.length === 0) return EXIT.ok; // FD form: the lock stays with the descriptor
    if (a.verbose) ctx.out(`ipckit: executing ${a.command[0]}`);
    if (a.noFork && cliIsProcess()) {
      await ctx.flush();
      const program = findProgram(a.command[0]);
      if (program !== null) {
        file.nonBlocking = false;
        file.closeOnExec = false;
        try {
          execProgram(program, a.command, Deno.env.toObject());
        } catch (e) {
          if (!(e instanceof IpcError)) throw e;
          ctx.err(`ipckit: failed to execute ${a.command[0]}: ${errnoDescription(e.errno)}`);
          return FLOCK.unavailable;
        }
      }
    }
    return await runCommand(ctx, a, file);
  } finally {
    // The FD form's descriptor belongs to the caller: give it back open.
    if (a.fd !== undefined) file.release();
    else file.close();
  }
}

async function runCommand(ctx: Context, a: LockArgs, file: LockFile): Promise<number> {
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
    const why = e instanceof Deno.errors.NotFound
      ? "No such file or directory"
      : e instanceof Deno.errors.PermissionDenied
      ? "Permission denied"
      : null;
    if (why === null) throw e;
    await ctx.flush();
    ctx.err(`ipckit: failed to execute ${a.command[0]}: ${why}`);
    return FLOCK.unavailable;
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

/** The `lock` command: flock(1)'s command line, and `ipckit lock who PATH`. */
export const lockCommand: Command = {
  summary: "run a command under a flock(1)-compatible lock; 'lock who PATH' lists holders",
  run(ctx) {
    const args = ctx.args;
    if (args[0] === "who" && args.length > 1 && !args.includes("--") && !args.includes("-c")) {
      return lockWho.run(ctx.sub("who", args.slice(1)));
    }
    return runLocked(ctx);
  },
};
