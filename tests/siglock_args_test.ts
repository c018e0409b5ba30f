/**
 * Every wrong argument to the lock, signal and shutdown calls is an
 * `IpcError` EINVAL naming the call and the object, raised before any
 * syscall: never a raw TypeError or RangeError, and `timeout: null` never
 * means "forever".
 */
import { equal, ok, rejects, throws } from "node:assert/strict";
import {
  blockedInEveryThread,
  closeOnShutdown,
  execWithSignalsBlocked,
  IpcError,
  lockFile,
  openLockFile,
  openPidfd,
  processGroup,
  receiveSignals,
  sendSignal,
  sendSignalToGroup,
  signalName,
  signalNumber,
  singleInstance,
  tryLockFile,
  withLock,
} from "../mod.ts";
import { spawnReady, tempDir } from "./_helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

function einval(syscall?: string) {
  return (e: unknown) => {
    ok(e instanceof IpcError, `not an IpcError: ${e}`);
    equal((e as IpcError).code, "EINVAL", (e as Error).message);
    if (syscall) equal((e as IpcError).syscall, syscall, (e as Error).message);
    ok((e as IpcError).object !== undefined, `names no object: ${(e as Error).message}`);
    return true;
  };
}

const BAD_NUMBERS: unknown[] = [NaN, Infinity, -Infinity, "12", 12n, 1.5, null, {}, [], true];

Deno.test("pids, process groups, signals and sigqueue values of any wrong type are EINVAL", () => {
  for (const bad of BAD_NUMBERS) {
    const what = String(bad);
    throws(() => sendSignal(bad as Any, "SIGTERM"), einval("kill"), `pid ${what}`);
    throws(() => sendSignalToGroup(bad as Any, "SIGTERM"), einval("kill"), `pgid ${what}`);
    throws(() => openPidfd(bad as Any), einval("pidfd_open"), `pidfd ${what}`);
    if (bad !== "12") {
      throws(() => sendSignal(Deno.pid, bad as Any), einval("signal"), `signal ${what}`);
      throws(() => signalNumber(bad as Any), einval("signal"), `signalNumber ${what}`);
    }
    // signalNumber's options: null was a TypeError from a destructured default (fuzz test).
    if (bad !== undefined && typeof bad !== "object" || bad === null) {
      throws(() => signalNumber(0, bad as Any), einval("signal"), `signalNumber options ${what}`);
    }
    throws(() => signalName(bad as Any), einval("signal"), `signalName ${what}`);
    throws(
      () => sendSignal(Deno.pid, 0, { value: bad as Any }),
      einval("sigqueue"),
      `value ${what}`,
    );
    if (bad !== null) throws(() => processGroup(bad as Any), einval("getpgid"), `pgid ${what}`);
  }
  for (const opts of [null, "x", 5, []]) {
    throws(() => sendSignal(Deno.pid, 0, opts as Any), einval("kill"), `options ${opts}`);
    throws(() => receiveSignals(["SIGUSR2"], opts as Any), einval("receive"), `${opts}`);
  }
  throws(() => receiveSignals("SIGUSR2" as Any), einval("receive"));
  throws(() => execWithSignalsBlocked("SIGUSR2" as Any), einval("execve"));
  throws(() => blockedInEveryThread(12 as Any), einval("signal"));
  throws(() => closeOnShutdown(5 as Any), (e) => e instanceof IpcError && e.code === "EINVAL");
  using pidfd = openPidfd(Deno.pid);
  throws(() => pidfd.send(0, { value: NaN }), einval("pidfd_send_signal"));
  throws(() => pidfd.send(0, null as Any), einval("pidfd_send_signal"));
  throws(() => pidfd.send(65), einval("signal"));
});

Deno.test("case 13: a timeout of null, -1, NaN or a string is EINVAL before any attempt", async () => {
  using dir = tempDir();
  const path = `${dir.path}/t`;
  for (const timeout of [null, -1, NaN, "100", 5n]) {
    await rejects(lockFile(path, { timeout: timeout as Any }), einval("lock"), String(timeout));
    await rejects(withLock(path, () => 1, { timeout: timeout as Any }), einval("lock"));
    using f = openLockFile(path, { create: true });
    await rejects(f.lock({ timeout: timeout as Any }), einval("flock"), String(timeout));
    using pidfd = openPidfd(Deno.pid);
    await rejects(pidfd.exited({ timeout: timeout as Any }), einval("poll"));
    using sigs = receiveSignals(["SIGUSR2"]);
    await rejects(sigs.receive({ timeout: timeout as Any }), einval("receive"));
  }
  throws(() => Deno.statSync(`${dir.path}/never`), Deno.errors.NotFound);
});

Deno.test("lock options, ranges, offsets and buffers of any wrong type are EINVAL", async () => {
  using dir = tempDir();
  const path = `${dir.path}/a`;
  for (const opts of [null, "x", 5, []]) {
    throws(() => openLockFile(path, opts as Any), einval("open"), `open ${opts}`);
    throws(() => tryLockFile(path, opts as Any), einval("lock"), `tryLockFile ${opts}`);
    throws(() => singleInstance(path, opts as Any), einval("open"), `singleInstance ${opts}`);
  }
  throws(() => openLockFile(path, { create: true, readOnly: "yes" as Any }), einval("open"));
  throws(() => openLockFile(path, { create: "yes" as Any }), einval("open"));
  throws(() => openLockFile(path, { create: { mode: "0644" as Any } }), einval("open"));
  throws(() => openLockFile(path, { create: true, trustedUids: [-1] }), einval("open"));
  throws(() => openLockFile(42 as Any), einval("open"));
  await rejects(withLock(path, "not a function" as Any), einval("lock"));
  throws(() => Deno.statSync(path), Deno.errors.NotFound, "nothing was created");
  using f = openLockFile(path, { create: true });
  for (const bad of BAD_NUMBERS) {
    throws(() => f.tryLock({ start: bad as Any, length: 1 }), einval("lock"), `start ${bad}`);
    throws(() => f.tryLock({ start: 0, length: bad as Any }), einval("lock"), `length ${bad}`);
    throws(() => f.readAt(new Uint8Array(4), bad as Any), einval("pread"), `offset ${bad}`);
    throws(() => f.writeAt(new Uint8Array(4), bad as Any), einval("pwrite"), `offset ${bad}`);
    throws(() => f.truncate(bad as Any), einval("ftruncate"), `size ${bad}`);
  }
  throws(() => f.tryLock({ shared: "yes" as Any }), einval("lock"));
  for (const buf of ["abc", [1, 2], new ArrayBuffer(4), null, 5]) {
    throws(() => f.readAt(buf as Any, 0), einval("pread"), `buffer ${buf}`);
    throws(() => f.writeAt(buf as Any, 0), einval("pwrite"), `buffer ${buf}`);
  }
  const detached = new Uint8Array(8);
  detached.buffer.transfer();
  throws(() => f.readAt(detached, 0), einval("pread"));
  throws(() => f.writeAt(detached, 0), einval("pwrite"));
  equal(Deno.statSync(path).size, 0, "nothing was written");
});

Deno.test("case 39: when the AbortSignal fires during a pending lock wait or signal receive, the script exits by itself", async () => {
  using dir = tempDir();
  const path = `${dir.path}/held`;
  await using _holder = await spawnReady("sh", [
    "-c",
    `exec 9>>"$1"; flock -x 9; echo ready; exec sleep 60`,
    "sh",
    path,
  ]);
  const script = `${dir.path}/pending.ts`;
  const mod = new URL("../mod.ts", import.meta.url).href;
  Deno.writeTextFileSync(
    script,
    `import { lockFile, receiveSignals } from ${JSON.stringify(mod)};
const ac = new AbortController();
setTimeout(() => ac.abort(), 100);
const sigs = receiveSignals(["SIGUSR2"]);
const results = await Promise.allSettled([
  lockFile(${JSON.stringify(path)}, { signal: ac.signal }),
  sigs.receive({ signal: ac.signal }),
]);
sigs.close();
console.log(results.map((r) => r.status === "rejected" ? r.reason.name : "fulfilled").join(" "));
// no Deno.exit: nothing may keep the event loop alive
`,
  );
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-ffi", "--allow-read", "--allow-write", "--no-check", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(new TextDecoder().decode(out.stdout), "AbortError AbortError\n");
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  ok(performance.now() - t0 < 10_000, "the script must exit on its own");
});
