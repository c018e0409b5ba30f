/**
 * `ipckit lock who PATH`: who holds or waits for locks on a file.
 *
 * @module
 */
import { lockHolders, openLockFile } from "../lock.ts";
import { type Command, EXIT, parse, UsageError } from "./_common.ts";

/** The `lock who` handler. */
export const lockWho: Command = {
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
