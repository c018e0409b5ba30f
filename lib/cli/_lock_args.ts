/**
 * flock(1)'s command line for `ipckit lock`: getopt-style short clusters and
 * long options (unambiguous prefixes too), options ending at FILE, and the
 * three forms (COMMAND, `-c COMMAND`, FD).
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import { parseMode } from "../_validate.ts";
import { type Context, intFlag, UsageError } from "./_common.ts";

export const usage = `Usage: ipckit lock [options] FILE|DIRECTORY COMMAND [ARGS...]
       ipckit lock [options] FILE|DIRECTORY -c COMMAND
       ipckit lock [options] FD
       ipckit lock who PATH [--json]

Runs COMMAND while holding a flock(2) lock on FILE or DIRECTORY, or locks the
inherited descriptor FD, as util-linux flock(1) does: the command line, the
exit codes and the locks are flock(1)'s, so the two exclude each other and a
script written for one runs under the other. A missing FILE is created with
mode 0644 (--mode to change); an existing one may belong to anyone, as with
flock(1), but is never opened through a symlink. COMMAND inherits the lock descriptor (unless -o),
so the lock lasts until it and everything it started have exited.

  ( ipckit lock -n 9 || exit 1; critical-section ) 9>/var/lock/job

Options (before FILE, as with flock):
  -s, --shared                 shared lock
  -x, -e, --exclusive          exclusive lock (default)
  -u, --unlock                 remove a lock (useful with FD)
  -n, --nb, --nonblock         fail at once if the lock is taken
  -w, --wait SECONDS           give up after SECONDS (fractions allowed; 0 = -n)
      --timeout MS             ipckit's form: give up after MS milliseconds (exit 124)
  -E, --conflict-exit-code N   exit code for a taken lock or a -w timeout (default 1)
  -o, --close                  do not pass the lock descriptor to COMMAND
  -F, --no-fork                run COMMAND in place of ipckit (same pid)
  -c, --command COMMAND        run COMMAND with $SHELL -c (after FILE)
      --verbose                say how long getting the lock took, and what runs
      --mode MODE              mode of a lock file ipckit creates (default 0644)
      --any-owner              accepted for ipckit's other commands; lock trusts any owner
  -h, --help                   this help
  -V, --version                version

Exit codes: COMMAND's own (128+N if it died of signal N); 1 (or -E N) when the
lock is taken or -w runs out; 124 when --timeout runs out; 66 FILE cannot be
opened; 65 the lock call failed (FD not open); 69 COMMAND cannot be run;
2 usage.`;

/** flock(1)'s exit codes (sysexits.h) where ipckit lock emulates them. */
export const FLOCK = {
  dataErr: 65,
  noInput: 66,
  unavailable: 69,
  osErr: 71,
  cantCreate: 73,
} as const;

export interface LockArgs {
  target: string;
  /** The descriptor number of the FD form. */
  fd?: number;
  command: string[];
  shared: boolean;
  unlock: boolean;
  nonblock: boolean;
  /** Milliseconds; from -w (seconds) or --timeout (ms). */
  timeout?: number;
  /** Whether the timeout came from ipckit's --timeout (exit 124) rather than -w. */
  ipckitTimeout: boolean;
  conflictCode: number;
  close: boolean;
  noFork: boolean;
  verbose: boolean;
  mode: number;
  anyOwner: boolean;
}

const LONG: Record<string, string> = {
  shared: "s",
  exclusive: "x",
  unlock: "u",
  nonblocking: "n",
  nonblock: "n",
  nb: "n",
  wait: "w",
  timeout: "timeout",
  "conflict-exit-code": "E",
  close: "o",
  "no-fork": "F",
  verbose: "verbose",
  mode: "mode",
  "any-owner": "any-owner",
  help: "h",
  version: "V",
};
const TAKES_VALUE = new Set(["w", "timeout", "E", "mode"]);
const SHORT = new Set(["s", "x", "e", "u", "n", "w", "E", "o", "F", "h", "V"]);

/** A long option by its name or an unambiguous prefix, as getopt_long takes them. */
function longOption(name: string): string {
  if (LONG[name] !== undefined) return LONG[name];
  const matches = [
    ...new Set(Object.keys(LONG).filter((k) => k.startsWith(name)).map((k) => LONG[k])),
  ];
  if (matches.length === 1) return matches[0];
  throw new UsageError(
    matches.length === 0 ? `unrecognized option '--${name}'` : `option '--${name}' is ambiguous`,
  );
}

function seconds(value: string): number {
  const secs = /^(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(secs) || secs * 1000 > 2 ** 31) {
    throw new UsageError(`invalid timeout value: '${value}'`);
  }
  return secs * 1000;
}

/** Parses flock(1)'s command line (options stop at FILE); `null` after --help/--version. */
export function parseLockArgs(ctx: Context, args: string[]): LockArgs | null {
  const a: LockArgs = {
    target: "",
    command: [],
    shared: false,
    unlock: false,
    nonblock: false,
    ipckitTimeout: false,
    conflictCode: 1,
    close: false,
    noFork: false,
    verbose: false,
    mode: 0o644,
    anyOwner: false,
  };
  const apply = (opt: string, value: string | undefined): "stop" | void => {
    switch (opt) {
      case "s":
        a.shared = true;
        break;
      case "x":
      case "e":
        a.shared = false;
        break;
      case "u":
        a.unlock = true;
        break;
      case "n":
        a.nonblock = true;
        break;
      case "o":
        a.close = true;
        break;
      case "F":
        a.noFork = true;
        break;
      case "verbose":
        a.verbose = true;
        break;
      case "any-owner":
        a.anyOwner = true;
        break;
      case "w":
        a.timeout = seconds(value!);
        a.ipckitTimeout = false;
        break;
      case "timeout":
        a.timeout = intFlag(value, "timeout");
        a.ipckitTimeout = true;
        break;
      case "E": {
        const n = /^\d+$/.test(value!) ? Number(value) : NaN;
        if (!(n >= 0 && n <= 255)) {
          throw new UsageError(`exit code out of range (expected 0 to 255): '${value}'`);
        }
        a.conflictCode = n;
        break;
      }
      case "mode":
        try {
          a.mode = parseMode(value!, "open");
        } catch {
          throw new UsageError(`--mode must be octal like 0644, got "${value}"`);
        }
        break;
      case "h":
        ctx.out(usage);
        return "stop";
      case "V":
        ctx.out(`ipckit lock from ipckit ${denoJson.version}`);
        return "stop";
    }
  };
  /** Parses options from `args` until the first operand; the index after them, or null. */
  const options = (args: string[]): number | null => {
    let i = 0;
    for (; i < args.length; i++) {
      const tok = args[i];
      if (tok === "--") return i + 1;
      if (!tok.startsWith("-") || tok === "-") break;
      if (tok.startsWith("--")) {
        const eq = tok.indexOf("=");
        const opt = longOption(eq > 0 ? tok.slice(2, eq) : tok.slice(2));
        let value: string | undefined;
        if (TAKES_VALUE.has(opt)) {
          value = eq > 0 ? tok.slice(eq + 1) : args[++i];
          if (value === undefined) throw new UsageError(`option '${tok}' requires an argument`);
        } else if (eq > 0) {
          throw new UsageError(`option '${tok.slice(0, eq)}' doesn't allow an argument`);
        }
        if (apply(opt, value) === "stop") return null;
        continue;
      }
      for (let j = 1; j < tok.length; j++) {
        const opt = tok[j];
        if (!SHORT.has(opt)) throw new UsageError(`invalid option -- '${opt}'`);
        let value: string | undefined;
        if (TAKES_VALUE.has(opt)) {
          value = j + 1 < tok.length ? tok.slice(j + 1) : args[++i];
          if (value === undefined) throw new UsageError(`option requires an argument -- '${opt}'`);
          j = tok.length;
        }
        if (apply(opt, value) === "stop") return null;
      }
    }
    return i;
  };
  const i = options(args);
  if (i === null) return null;
  const rest = args.slice(i);
  if (rest.length === 0) throw new UsageError("not enough arguments");
  a.target = rest[0];
  if (rest.length === 1) {
    if (!/^\d+$/.test(rest[0])) {
      throw new UsageError(`bad file descriptor: '${rest[0]}' (or give a COMMAND)`);
    }
    a.fd = Number(rest[0]);
    if (a.noFork || a.close) throw new UsageError("-F and -o need a COMMAND");
  } else if (rest[1] === "-c" || rest[1] === "--command") {
    if (rest.length !== 3) throw new UsageError(`${rest[1]} requires exactly one command argument`);
    a.command = [Deno.env.get("SHELL") || "/bin/sh", "-c", rest[2]];
  } else {
    // ipckit's own form, `PATH [options] -- COMMAND`: options may follow PATH
    // when a "--" ends them (flock(1) would run the option as the command).
    const dd = rest.indexOf("--", 1);
    const between = dd > 0 ? rest.slice(1, dd) : [];
    if (between.length > 0 && between[0].startsWith("-") && between[0] !== "-") {
      const used = options([...between, "--"]);
      if (used === null) return null;
      if (used !== between.length + 1) {
        throw new UsageError(`unexpected "${between[used]}" between FILE and --`);
      }
      a.command = rest.slice(dd + 1);
    } else a.command = rest[1] === "--" ? rest.slice(2) : rest.slice(1);
    if (a.command.length === 0) throw new UsageError("missing COMMAND after --");
  }
  if (a.noFork && a.close) {
    throw new UsageError("the --no-fork and --close options are incompatible");
  }
  if (a.timeout === 0 && !a.ipckitTimeout) a.nonblock = true; // flock: -w 0 is -n
  return a;
}
