import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import {
  bindUnix,
  connectUnix,
  createPipe,
  IpcError,
  listenFds,
  notify,
  watchdog,
} from "../mod.ts";
import { monotonicUsec } from "../lib/_systemd_notify.ts";
import { command, have, ipckitInProcess, ipcTaskFlags, tempDir } from "./_helpers.ts";

const dec = new TextDecoder();
const cli = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const example = new URL("../examples/sock_notify_service.ts", import.meta.url).pathname;

/** Runs `fn` with environment variables set, restoring them after. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T> | T) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, Deno.env.get(k)]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      x === undefined ? Deno.env.delete(k) : Deno.env.set(k, x);
    }
  };
  set(vars);
  try {
    return await fn();
  } finally {
    set(saved);
  }
}

Deno.test("notify() outside systemd sends nothing and says so", async () => {
  await withEnv({ NOTIFY_SOCKET: undefined }, async () => {
    const r = await notify({ ready: true });
    equal(r.sent, false);
    equal(r.socket, null);
    equal(r.message, "READY=1");
    match(r.reason!, /NOTIFY_SOCKET is not set/);
  });
});

for (const form of ["path", "@name"] as const) {
  Deno.test(`notify() sends every assignment to NOTIFY_SOCKET in the ${form} form`, async () => {
    using dir = tempDir();
    const target = form === "path" ? `${dir.path}/notify` : `@ipckit-test-notify-${Deno.pid}`;
    using inbox = bindUnix(target, { passCredentials: true });
    equal(inbox.localAddress, target);
    await withEnv({ NOTIFY_SOCKET: target }, async () => {
      const r = await notify({
        ready: true,
        stopping: true,
        status: "all good",
        errno: 5,
        mainPid: Deno.pid,
        watchdog: true,
        watchdogUsec: 3000000,
        extendTimeoutUsec: 1000000,
        extra: { CUSTOM: "x=y" },
      });
      equal(r.sent, true);
      equal(r.socket, target);
    });
    const m = await inbox.receive({ timeout: 2000 });
    equal(
      m.text(),
      "READY=1\nSTOPPING=1\nSTATUS=all good\nERRNO=5\nMAINPID=" + Deno.pid +
        "\nWATCHDOG=1\nWATCHDOG_USEC=3000000\nEXTEND_TIMEOUT_USEC=1000000\nCUSTOM=x=y",
    );
    equal(m.credentials?.pid, Deno.pid);
  });
}

Deno.test("notify({ reloading }) carries MONOTONIC_USEC from CLOCK_MONOTONIC", async () => {
  using inbox = bindUnix(`@ipckit-test-reload-${Deno.pid}`);
  await withEnv({ NOTIFY_SOCKET: inbox.localAddress! }, async () => {
    const before = monotonicUsec();
    await notify({ reloading: true });
    const m = (await inbox.receive({ timeout: 2000 })).text();
    const [first, second] = m.split("\n");
    equal(first, "RELOADING=1");
    const usec = BigInt(second.replace("MONOTONIC_USEC=", ""));
    ok(usec >= before && usec - before < 5_000_000n, m);
  });
});

Deno.test("notify({ fdStore, fdName }) passes the descriptors along", async () => {
  using inbox = bindUnix(`@ipckit-test-fdstore-${Deno.pid}`);
  using pipe = createPipe();
  await withEnv({ NOTIFY_SOCKET: inbox.localAddress!, IPCKIT_UNSET_ME: "1" }, async () => {
    await notify({ fdStore: [pipe.writer], fdName: "journal" }, { unsetEnvironment: true });
    equal(Deno.env.get("NOTIFY_SOCKET"), undefined);
  });
  const m = await inbox.receive({ maxFds: 4, timeout: 2000 });
  equal(m.text(), "FDSTORE=1\nFDNAME=journal");
  equal(m.fds.length, 1);
  await m.fds[0].writeAll(new TextEncoder().encode("stored"));
  m.fds[0].close();
  pipe.writer.close();
  equal(dec.decode(await pipe.reader.readAll({ timeout: 1000 })), "stored");
});

Deno.test("notify() refuses bad values before sending", async () => {
  await withEnv({ NOTIFY_SOCKET: "@ipckit-test-nobody-there" }, async () => {
    for (const bad of [{ status: "two\nlines" }, { errno: -1 }, { mainPid: 1.5 }]) {
      await rejects(notify(bad), (e) => e instanceof IpcError && e.code === "EINVAL");
    }
    await rejects(
      notify({ ready: true }),
      (e) => e instanceof IpcError && e.code === "ECONNREFUSED",
    );
  });
});

Deno.test("watchdog() pings at half of WATCHDOG_USEC, and is off when not asked for", async () => {
  using inbox = bindUnix(`@ipckit-test-watchdog-${Deno.pid}`);
  await withEnv(
    { NOTIFY_SOCKET: inbox.localAddress!, WATCHDOG_USEC: "200000", WATCHDOG_PID: String(Deno.pid) },
    async () => {
      const started = performance.now();
      {
        using dog = watchdog();
        equal(dog.enabled, true);
        equal(dog.intervalMs, 100);
        for (let i = 0; i < 3; i++) {
          equal((await inbox.receive({ timeout: 1000 })).text(), "WATCHDOG=1");
        }
      }
      const took = performance.now() - started;
      ok(took >= 180 && took < 1000, `3 pings took ${took} ms`);
    },
  );
  await withEnv({ WATCHDOG_USEC: "200000", WATCHDOG_PID: "1" }, () => {
    using dog = watchdog();
    equal(dog.enabled, false);
    match(dog.reason!, /WATCHDOG_PID is 1/);
  });
  await withEnv({ WATCHDOG_USEC: undefined }, () => {
    equal(watchdog().enabled, false);
  });
});

Deno.test("listenFds() ignores variables meant for another pid and unsets them", async () => {
  await withEnv({ LISTEN_PID: "1", LISTEN_FDS: "1", LISTEN_FDNAMES: "x" }, () => {
    deepEqual(listenFds(), []);
    equal(Deno.env.get("LISTEN_FDS"), undefined);
  });
  await withEnv({ LISTEN_PID: String(Deno.pid), LISTEN_FDS: "many" }, () => {
    let err: unknown;
    try {
      listenFds();
    } catch (e) {
      err = e;
    }
    ok(err instanceof IpcError && err.code === "EINVAL" && err.syscall === "sd_listen_fds");
  });
});

/** Runs `args` under systemd-socket-activate and returns the child. */
function activate(args: string[], env: Record<string, string> = {}) {
  return command("systemd-socket-activate", args, {
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
}

async function connectWhenUp(path: string, type: "stream" | "dgram" = "stream") {
  for (let i = 0; i < 400; i++) {
    try {
      return await connectUnix(path, { type });
    } catch (e) {
      if (!(e instanceof IpcError) || !["ENOENT", "ECONNREFUSED"].includes(e.code)) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error(`nothing came up at ${path}`);
}

Deno.test({
  name: "systemd-socket-activate: the example service takes its listener and reports READY",
  ignore: !have("systemd-socket-activate", "systemd"),
  async fn() {
    using dir = tempDir();
    const path = `${dir.path}/echo.sock`;
    using inbox = bindUnix(`${dir.path}/notify`);
    // systemd-socket-activate passes only the variables given with --setenv.
    const child = activate([
      "-l",
      path,
      "--fdname=echo",
      `--setenv=NOTIFY_SOCKET=${dir.path}/notify`,
      "--setenv=ECHO_CONNECTIONS=1",
      Deno.execPath(),
      "run",
      ...ipcTaskFlags(),
      "--no-check",
      example,
    ]);
    using c = await connectWhenUp(path);
    await c.writeAll(new TextEncoder().encode("hello"));
    c.shutdown("write");
    equal(dec.decode(await c.readAll({ timeout: 10000 })), "HELLO");
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push((await inbox.receive({ timeout: 10000 })).text());
    deepEqual(got, [
      `READY=1\nSTATUS=echoing on ${path}`,
      "STATUS=served 1 connection(s)",
      "STOPPING=1",
    ]);
    const out = await child.output();
    equal(out.code, 0, dec.decode(out.stderr));
    match(dec.decode(out.stderr), /told systemd: READY=1/);
  },
});

Deno.test("the example service stops cleanly on SIGTERM: STOPPING, exit 0", async () => {
  using dir = tempDir();
  const path = `${dir.path}/echo.sock`;
  using inbox = bindUnix(`${dir.path}/notify`);
  const child = command(Deno.execPath(), ["run", ...ipcTaskFlags(), "--no-check", example, path], {
    stdout: "piped",
    stderr: "piped",
    env: { NOTIFY_SOCKET: `${dir.path}/notify` },
  }).spawn();
  equal((await inbox.receive({ timeout: 10000 })).text(), `READY=1\nSTATUS=echoing on ${path}`);
  child.kill("SIGTERM");
  equal((await inbox.receive({ timeout: 10000 })).text(), "STOPPING=1");
  const out = await child.output();
  equal(out.code, 0, dec.decode(out.stderr));
  equal(out.signal, null);
});

Deno.test({
  name: "systemd-socket-activate: listenFds() names each descriptor and picks its type",
  ignore: !have("systemd-socket-activate", "systemd"),
  async fn() {
    using dir = tempDir();
    const script = `${dir.path}/probe.ts`;
    const mod = new URL("../mod.ts", import.meta.url).href;
    Deno.writeTextFileSync(
      script,
      `import { listenFds, UnixListener, UnixSocket } from "${mod}";
       const fds = listenFds();
       console.log(JSON.stringify({
         env: [Deno.env.get("LISTEN_PID"), Deno.env.get("LISTEN_FDS"), Deno.env.get("LISTEN_FDNAMES")],
         fds: fds.map((f) => ({ name: f.name, fd: f.fd, cloexec: f.handle.closeOnExec,
           kind: f.handle instanceof UnixListener ? "listener " + f.handle.type + " " + f.handle.address
             : f.handle instanceof UnixSocket ? "socket " + f.handle.type : "other" })),
       }));`,
    );
    const child = activate([
      "--datagram",
      "-l",
      `${dir.path}/d.sock`,
      "--fdname=logs",
      Deno.execPath(),
      "run",
      ...ipcTaskFlags(),
      "--no-check",
      script,
    ]);
    // It execs the service on the first datagram.
    using d = await connectWhenUp(`${dir.path}/d.sock`, "dgram");
    await d.send(new Uint8Array([1]));
    const out = await child.output();
    equal(out.code, 0, dec.decode(out.stderr));
    const r = JSON.parse(dec.decode(out.stdout));
    deepEqual(r.env, [null, null, null]);
    deepEqual(r.fds, [{ name: "logs", fd: 3, cloexec: true, kind: "socket dgram" }]);
  },
});

Deno.test({
  name: "ipckit notify sends what systemd-notify sends, for the same flags",
  ignore: !have("systemd-notify", "systemd"),
  async fn() {
    using inbox = bindUnix(`@ipckit-test-cli-notify-${Deno.pid}`);
    const args = ["--ready", "--status=hi there", "--pid=4242", "FOO=bar", "--no-block"];
    const env = { NOTIFY_SOCKET: inbox.localAddress! };
    const real = await command("systemd-notify", args, { env, stderr: "piped" }).output();
    equal(real.code, 0, dec.decode(real.stderr));
    const theirs = (await inbox.receive({ timeout: 2000 })).text();
    const ours = await withEnv(env, () => ipckitInProcess(["notify", ...args]));
    equal(ours.code, 0, ours.stderr);
    equal((await inbox.receive({ timeout: 2000 })).text(), theirs);
    equal(theirs, "READY=1\nSTATUS=hi there\nMAINPID=4242\nFOO=bar");
  },
});

Deno.test({
  name: "ipckit notify waits for the barrier, and exits 1 like systemd-notify without a socket",
  ignore: !have("systemd-notify", "systemd"),
  async fn() {
    using inbox = bindUnix(`@ipckit-test-cli-barrier-${Deno.pid}`);
    const run = command(
      Deno.execPath(),
      ["run", ...ipcTaskFlags(), "--no-check", cli, "notify", "--stopping"],
      { env: { NOTIFY_SOCKET: inbox.localAddress! }, stdout: "piped", stderr: "piped" },
    ).output();
    equal((await inbox.receive({ timeout: 10000 })).text(), "STOPPING=1");
    const barrier = await inbox.receive({ maxFds: 1, timeout: 10000 });
    equal(barrier.text(), "BARRIER=1");
    equal(barrier.fds.length, 1);
    barrier.fds[0].close(); // what the manager does: the sender's wait ends
    equal((await run).code, 0);

    const env = { NOTIFY_SOCKET: "" };
    const real = await command("systemd-notify", ["--ready"], { env, stderr: "piped" }).output();
    const ours = await withEnv(
      { NOTIFY_SOCKET: undefined },
      () => ipckitInProcess(["notify", "--ready"]),
    );
    equal(ours.code, real.code);
    match(ours.stderr, /NOTIFY_SOCKET is not set/);
    const booted = await command("systemd-notify", ["--booted"]).output();
    equal((await ipckitInProcess(["notify", "--booted"])).code, booted.code);
    equal((await ipckitInProcess(["notify"])).code, 2);
  },
});
