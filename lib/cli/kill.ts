/**
 * `ipckit kill`: kill(1)'s command line (`-s SIG`, `-SIG`, `-NUM`,
 * `-q VALUE`, several pids, `-l`, `-L`, process groups as `-- -PGID`), with
 * `--pidfd` to send through a process descriptor.
 *
 * @module
 */
import {
  openPidfd,
  processGroup,
  realtimeSignalRange,
  sendSignal,
  sendSignalToGroup,
  signalNumber,
} from "../signal.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { IpcError } from "../_errors.ts";
import { errnoDescription } from "../../ffi/errno.ts";
import { type Command, type Context, EXIT, intFlag, UsageError } from "./_common.ts";

const usage = `Usage: ipckit kill [-s SIGNAL | -SIGNAL] [-q VALUE] [--pidfd] PID|-PGID...
       ipckit kill -l [SIGNAL|NUMBER...]
       ipckit kill -L

Sends a signal (default TERM) to each PID, as kill(1) does. A negative number
after "--" (or after the signal) is a process group: ipckit kill -TERM -- -1234.
0 is this command's own process group.

Options:
  -s, --signal SIGNAL   the signal: a name (TERM, SIGTERM, RTMIN+1) or number
  -SIGNAL, -NUMBER      the same, kill(1)'s short form (-9, -HUP, -SIGUSR2)
  -q, --queue VALUE     send with an integer value (sigqueue); not for groups
      --pidfd           send through a pidfd (pidfd_send_signal)
      --verbose         print each pid before signalling it
  -l, --list [SIG...]   list signal names; or translate a number (or an exit
                        status 128+N) to a name and a name to a number
  -L, --table           list signal names with numbers in a table
  -V, --version         version
  -h, --help            this help

Exit codes: 0 every signal sent, 1 none could be sent (no such process, not
permitted), 64 only some, 2 usage. Never use SIGUSR1 on a Deno process: it
opens an unauthenticated inspector on 127.0.0.1:9229.`;

/**
 * util-linux kill(1)'s signal names on Linux, in its order, aliases (IOT,
 * CLD, IO) included: its `-l` and `-L` list these.
 */
export const KILL_NAMES: readonly (readonly [string, number])[] = [
  ["HUP", 1],
  ["INT", 2],
  ["QUIT", 3],
  ["ILL", 4],
  ["TRAP", 5],
  ["ABRT", 6],
  ["IOT", 6],
  ["BUS", 7],
  ["FPE", 8],
  ["KILL", 9],
  ["USR1", 10],
  ["SEGV", 11],
  ["USR2", 12],
  ["PIPE", 13],
  ["ALRM", 14],
  ["TERM", 15],
  ["STKFLT", 16],
  ["CHLD", 17],
  ["CLD", 17],
  ["CONT", 18],
  ["STOP", 19],
  ["TSTP", 20],
  ["TTIN", 21],
  ["TTOU", 22],
  ["URG", 23],
  ["XCPU", 24],
  ["XFSZ", 25],
  ["VTALRM", 26],
  ["PROF", 27],
  ["WINCH", 28],
  ["IO", 29],
  ["POLL", 29],
  ["PWR", 30],
  ["SYS", 31],
];

/** Output width of kill(1)'s lists. */
const WIDTH = 72;

/** `kill -l`: the names filled into lines of 72 columns, as util-linux prints them. */
export function listNames(): string {
  let out = "";
  let col = 0;
  for (const [name] of KILL_NAMES) {
    const len = 1 + name.length;
    if (col + len > WIDTH) {
      out += "\n";
      col = 0;
    } else if (col > 0) out += " ";
    col += len;
    out += name;
  }
  return out + " RT<N> RTMIN+<N> RTMAX-<N>";
}

/** `kill -L`: "NN NAME    " cells of 11 columns filled into 72, RTMIN and RTMAX last. */
export function table(): string {
  const { min, max } = realtimeSignalRange();
  let out = "";
  let col = 0;
  for (const [name, n] of [...KILL_NAMES, ["RTMIN", min], ["RTMAX", max]] as const) {
    if (col + 11 > WIDTH) {
      out += "\n";
      col = 0;
    }
    col += 11;
    out += `${String(n).padStart(2)} ${name.padEnd(8)}`;
  }
  return out;
}

/** The kill(1) name of a signal number: `TERM`, `RT1` for SIGRTMIN+1. */
function killName(n: number): string {
  const known = KILL_NAMES.find(([, v]) => v === n);
  if (known) return known[0];
  return `RT${n - realtimeSignalRange().min}`;
}

function signalOrUsage(text: string): number {
  // util-linux also takes RT<N> for RTMIN+<N>.
  const rt = /^(?:SIG)?RT(\d+)$/i.exec(text);
  const alias = KILL_NAMES.find(([n]) => n === text.toUpperCase().replace(/^SIG/, ""));
  if (alias) return alias[1];
  try {
    return signalNumber(rt ? `RTMIN+${rt[1]}` : text, { allowZero: true });
  } catch (e) {
    if (e instanceof IpcError) throw new UsageError(`unknown signal "${text}"`);
    throw e;
  }
}

/** `kill -l ARG`: a number (or 128+N) to its name, a name to its number. */
function translate(arg: string): string {
  if (/^\d+$/.test(arg)) {
    let n = Number(arg);
    if (n > 128 && n <= 128 + realtimeSignalRange().max) n -= 128; // an exit status ($?)
    try {
      signalNumber(n);
    } catch {
      throw new UsageError(`unknown signal "${arg}"`);
    }
    return killName(n);
  }
  const n = signalOrUsage(arg);
  if (n === 0) throw new UsageError(`unknown signal "${arg}"`);
  return String(n);
}

interface KillArgs {
  signal?: number;
  signalText?: string;
  value?: number;
  pidfd: boolean;
  verbose: boolean;
  targets: string[];
}

/** Parses kill(1)'s command line; returns `null` when it printed a list or help. */
function parseKill(ctx: Context, args: string[]): KillArgs | null {
  const a: KillArgs = { pidfd: false, verbose: false, targets: [] };
  let i = 0;
  const value = (flag: string, inline?: string) => {
    const v = inline ?? args[++i];
    if (v === undefined) throw new UsageError(`option '${flag}' requires an argument`);
    return v;
  };
  const setSignal = (text: string) => {
    if (a.signal !== undefined) throw new UsageError("give one signal");
    a.signal = signalOrUsage(text);
    a.signalText = text;
  };
  for (; i < args.length; i++) {
    const tok = args[i];
    if (tok === "--") {
      i++;
      break;
    }
    if (!tok.startsWith("-") || tok === "-") break;
    const eq = tok.startsWith("--") ? tok.indexOf("=") : -1;
    const name = eq > 0 ? tok.slice(0, eq) : tok;
    const inline = eq > 0 ? tok.slice(eq + 1) : undefined;
    switch (name) {
      case "-h":
      case "--help":
        ctx.out(usage);
        return null;
      case "-V":
      case "--version":
        ctx.out(`ipckit kill from ipckit ${denoJson.version} (with: sigqueue, pidfd)`);
        return null;
      case "-l":
      case "--list": {
        const rest = [...(inline !== undefined ? [inline] : []), ...args.slice(i + 1)];
        if (rest.length === 0) ctx.out(listNames());
        for (const r of rest) ctx.out(translate(r));
        return null;
      }
      case "-L":
      case "--table":
        ctx.out(table());
        return null;
      case "-s":
      case "--signal":
        setSignal(value(name, inline));
        continue;
      case "-q":
      case "--queue":
        a.value = intFlag(value(name, inline), "queue", { min: -(2 ** 31), max: 2 ** 31 - 1 });
        continue;
      case "--pidfd":
        a.pidfd = true;
        continue;
      case "--verbose":
        a.verbose = true;
        continue;
    }
    if (tok.startsWith("--")) throw new UsageError(`unrecognized option '${tok}'`);
    if (a.signal !== undefined && /^-\d+$/.test(tok)) break; // a process group
    setSignal(tok.slice(1)); // -9, -TERM, -SIGRTMIN+1
  }
  a.targets = args.slice(i);
  if (a.targets.length === 0) throw new UsageError("no process given");
  return a;
}

/** util-linux kill(1)'s exit code for a partial success. */
const SOME_FAILED = 64;

/** A target as the kernel's kill() takes it: pid > 0, or -pgid; 0 is our own group. */
function target(text: string): number {
  if (!/^-?\d+$/.test(text)) {
    throw new UsageError(`"${text}" is not a pid (ipckit kill does not look processes up by name)`);
  }
  const n = Number(text);
  if (n === -1) {
    throw new UsageError("ipckit kill does not signal every process (-1)");
  }
  if (!Number.isSafeInteger(n) || Math.abs(n) > 0x3fffffff) {
    throw new UsageError(`"${text}" is not a pid`);
  }
  return n;
}

/** The `kill` command. */
export const killCommand: Command = {
  summary: "send a signal to processes or process groups, as kill(1)",
  run(ctx) {
    const a = parseKill(ctx, ctx.args);
    if (!a) return EXIT.ok;
    const sig = a.signal ?? 15;
    const targets = a.targets.map(target);
    if (a.value !== undefined && targets.some((t) => t <= 0)) {
      throw new UsageError("-q (sigqueue) cannot send to a process group");
    }
    if (a.pidfd && targets.some((t) => t <= 0)) {
      throw new UsageError("--pidfd cannot send to a process group");
    }
    let failed = 0;
    for (const [i, t] of targets.entries()) {
      if (a.verbose) ctx.out(`sending signal ${sig} to ${t === 0 ? "process group 0" : t}`);
      try {
        if (t === 0) sendSignalToGroup(processGroup(), sig);
        else if (t < 0) sendSignalToGroup(-t, sig);
        else if (a.pidfd) {
          using fd = openPidfd(t);
          fd.send(sig, { value: a.value });
        } else sendSignal(t, sig, { value: a.value });
      } catch (e) {
        if (!(e instanceof IpcError)) throw e;
        const why = errnoDescription(e.errno);
        ctx.err(
          `ipckit: sending signal to ${a.targets[i]} failed: ${why[0].toUpperCase()}${
            why.slice(1)
          }`,
        );
        failed++;
      }
    }
    // kill(1): 1 when every signal failed, 64 when only some did.
    return failed === 0 ? EXIT.ok : failed === targets.length ? EXIT.error : SOME_FAILED;
  },
};
