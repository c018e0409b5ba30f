import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import {
  bindUnix,
  connectUnix,
  createPipe,
  createSocketPair,
  IpcError,
  listenUnix,
  MAX_SOCKET_PATH_BYTES,
  receiveFds,
  sendFds,
  UnixSocket,
} from "../mod.ts";
import { Message } from "../lib/message.ts";
import {
  buildC,
  command,
  fdsTo,
  fdTarget,
  runDeno,
  spawnReady,
  tempDir,
  warmUpDescriptors,
} from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const child = new URL("./fixtures/sock_child.ts", import.meta.url);
const cli = new URL("../lib/cli/main.ts", import.meta.url);

function code(e: unknown): string {
  return (e as IpcError).code;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

// Descriptor counts below count only what the tests open.
await warmUpDescriptors();

Deno.test("listenUnix() and connectUnix() talk across processes and identify the peer", async () => {
  using dir = tempDir();
  const path = `${dir.path}/s.sock`;
  // The two sockets this test opens, by inode: a whole-process count races
  // with the other test files of a --parallel run.
  const mine: string[] = [];
  {
    using server = listenUnix(path);
    mine.push(fdTarget(server.fd));
    equal(Deno.statSync(path).mode! & 0o777, 0o600);
    const proc = command(Deno.execPath(), [
      "run",
      "-A",
      "--no-check",
      cli.pathname,
      "sock",
      "send",
      path,
      "hello",
      "world",
    ]).spawn();
    using conn = await server.accept({ timeout: 10000 });
    mine.push(fdTarget(conn.fd));
    const creds = conn.peerCredentials();
    equal(creds.pid, proc.pid);
    equal(creds.uid, Deno.uid());
    const text = dec.decode(await conn.readAll({ timeout: 10000 }));
    equal(text, "hello\nworld\n");
    equal((await proc.status).code, 0);
  }
  deepEqual(mine.flatMap((t) => fdsTo(t)), [], "every socket was closed");
  ok(!exists(path), "socket file removed on close");
});

Deno.test("dgram and seqpacket sockets keep message boundaries", async () => {
  for (const type of ["dgram", "seqpacket"] as const) {
    const [a, b] = createSocketPair(type);
    try {
      await a.send(enc.encode("one"));
      await a.send(new Uint8Array(0));
      await a.send(enc.encode("three!"));
      deepEqual((await b.receive()).text(), "one");
      if (type === "dgram") equal((await b.receive()).bytes.length, 0);
      else equal((await b.receive()).end, true); // an empty seqpacket reads as the end, as in C
      deepEqual((await b.receive()).text(), "three!");
    } finally {
      a.close();
      b.close();
    }
  }
});

Deno.test("bindUnix() receives datagrams from another process with SCM_CREDENTIALS", async () => {
  using dir = tempDir();
  const path = `${dir.path}/d.sock`;
  using inbox = bindUnix(path, { passCredentials: true });
  ok(inbox.passCredentials);
  const out = await command(Deno.execPath(), [
    "run",
    "-A",
    "--no-check",
    cli.pathname,
    "sock",
    "send",
    path,
    "--type",
    "dgram",
    "a",
    "bb",
  ]).output();
  equal(out.code, 0);
  const first = await inbox.receive({ timeout: 5000 });
  const second = await inbox.receive({ timeout: 5000 });
  deepEqual([first.text(), second.text()], ["a", "bb"]);
  equal(first.credentials?.uid, Deno.uid());
  ok(first.credentials!.pid > 0 && first.credentials!.pid !== Deno.pid);
});

Deno.test("abstract names work for every type and create no file", async () => {
  const name = `ipckit-test-${Deno.pid}-abstract`;
  using server = listenUnix(name, { abstract: true, type: "seqpacket" });
  equal(server.address, `@${name}`);
  using client = await connectUnix(name, { abstract: true, type: "seqpacket" });
  using conn = await server.accept({ timeout: 1000 });
  equal(conn.localAddress, `@${name}`);
  await client.send(enc.encode("x"));
  equal((await conn.receive()).text(), "x");
  throws(
    () => listenUnix(name, { abstract: true, type: "seqpacket" }),
    (e) => code(e) === "EADDRINUSE",
  );
  ok(!exists(name));
});

Deno.test("case 31: listenUnix() rejects a path longer than sun_path, never truncating it", () => {
  using dir = tempDir();
  const base = `${dir.path}/`;
  const fit = base + "a".repeat(MAX_SOCKET_PATH_BYTES - base.length);
  const sockets = socketCount();
  // 108 and 109 bytes, and a multi-byte name that is short in JS characters.
  for (
    const p of [fit + "b", fit + "bc", base + "é".repeat(Math.ceil((108 - base.length) / 2))]
  ) {
    throws(() => listenUnix(p), (e) => e instanceof IpcError && e.code === "ENAMETOOLONG");
  }
  throws(
    () => listenUnix("x".repeat(108), { abstract: true }),
    (e) => code(e) === "ENAMETOOLONG",
  );
  equal(socketCount(), sockets);
  deepEqual([...Deno.readDirSync(dir.path)], []);
  using exact = listenUnix(fit);
  equal(exact.address, fit);
  ok(exists(fit));
});

Deno.test("case 32: listenUnix() replaces a stale socket file but not a live server or another file", async () => {
  using dir = tempDir();
  const path = `${dir.path}/s.sock`;
  // A server that died without removing its file.
  listenUnix(path, { unlinkOnClose: false }).close();
  ok(Deno.lstatSync(path).isSocket);
  await rejects(connectUnix(path), (e) => code(e) === "ECONNREFUSED");
  using live = listenUnix(path);
  throws(() => listenUnix(path), (e) => e instanceof Deno.errors.AddrInUse);
  // A regular file at the path is never removed.
  const file = `${dir.path}/file`;
  Deno.writeTextFileSync(file, "keep");
  throws(() => listenUnix(file), (e) => code(e) === "EADDRINUSE");
  equal(Deno.readTextFileSync(file), "keep");
  ok(live.address === path);
});

Deno.test("connectUnix() to nothing fails at once with a typed error", async () => {
  using dir = tempDir();
  await rejects(
    connectUnix(`${dir.path}/missing.sock`, { timeout: 5000 }),
    (e) => e instanceof Deno.errors.NotFound && code(e) === "ENOENT",
  );
  await rejects(
    connectUnix(`ipckit-test-${Deno.pid}-none`, { abstract: true }),
    (e) => e instanceof Deno.errors.ConnectionRefused,
  );
  await rejects(
    connectUnix(`${dir.path}/x`, { type: "raw" as "stream" }),
    (e) => code(e) === "EINVAL",
  );
});

Deno.test("connectUnix() waits out a full backlog and times out", async () => {
  const name = `ipckit-test-${Deno.pid}-backlog`;
  using server = listenUnix(name, { abstract: true, backlog: 0 });
  const held: UnixSocket[] = [];
  try {
    let timedOut = false;
    for (let i = 0; i < 8 && !timedOut; i++) {
      try {
        held.push(await connectUnix(name, { abstract: true, timeout: 150 }));
      } catch (e) {
        equal(code(e), "ETIMEDOUT");
        timedOut = true;
      }
    }
    ok(timedOut, "a full accept queue made connect wait until the timeout");
    // Once a connection is accepted, a waiting connect gets through.
    const pending = connectUnix(name, { abstract: true, timeout: 5000 });
    (await server.accept({ timeout: 1000 })).close();
    held.push(await pending);
  } finally {
    for (const h of held) h.close();
  }
});

Deno.test("receive() times out, honours AbortSignal, and accept() rejects when closed", async () => {
  const [a, b] = createSocketPair();
  try {
    const t0 = performance.now();
    await rejects(b.receive({ timeout: 100 }), (e) => e instanceof Deno.errors.TimedOut);
    ok(performance.now() - t0 >= 90);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("stop")), 20);
    await rejects(b.receive({ signal: ac.signal }), /stop/);
  } finally {
    a.close();
    b.close();
  }
  const name = `ipckit-test-${Deno.pid}-closing`;
  const server = listenUnix(name, { abstract: true });
  const pending = server.accept();
  server.close();
  await rejects(pending, (e) => e instanceof Deno.errors.BadResource);
});

Deno.test("case 30: a peer that exits mid-message gives the partial data, then the end, then EPIPE", async () => {
  using dir = tempDir();
  const path = `${dir.path}/p.sock`;
  using server = listenUnix(path);
  const run = runDeno(child, ["partial", path]);
  using conn = await server.accept({ timeout: 10000 });
  const got: string[] = [];
  for (;;) {
    const msg = await conn.receive({ timeout: 10000 });
    if (msg.end) break;
    got.push(msg.text());
  }
  equal(got.join(""), "12345");
  equal((await run).code, 0);
  await rejects(
    (async () => {
      for (let i = 0; i < 100; i++) await conn.send(enc.encode("x".repeat(4096)));
    })(),
    (e) => e instanceof Deno.errors.BrokenPipe && code(e) === "EPIPE",
  );
});

Deno.test("case 29: writeAll() of 4 MiB across processes arrives intact and in order", async () => {
  using dir = tempDir();
  const path = `${dir.path}/w.sock`;
  using server = listenUnix(path);
  const n = 4 << 20;
  const run = runDeno(child, ["write", path, String(n)]);
  using conn = await server.accept({ timeout: 10000 });
  const data = await conn.readAll({ timeout: 20000 });
  equal(data.length, n);
  for (let i = 0; i < n; i++) {
    if (data[i] !== ((i * 7 + (i >> 11)) & 0xff)) throw new Error(`byte ${i} differs`);
  }
  equal((await run).code, 0);
});

Deno.test("sendFds() hands a pipe to another process, which writes through it", async () => {
  using dir = tempDir();
  const path = `${dir.path}/f.sock`;
  using server = listenUnix(path);
  await using proc = await spawnReady(Deno.execPath(), [
    "run",
    "-A",
    "--no-check",
    child.pathname,
    "sendpipe",
    path,
  ], { ready: null });
  using conn = await server.accept({ timeout: 10000 });
  equal(await proc.nextLine(), "sent");
  const [reader] = await receiveFds(conn, { timeout: 5000 });
  using r = reader;
  ok(r.closeOnExec, "received descriptors are close-on-exec");
  equal(dec.decode(await r.readAll({ timeout: 5000 })), "from-deno-child");
});

/** Open sockets of this process (the runtime opens and closes other descriptors meanwhile). */
function socketCount(): number {
  let n = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith("socket:")) n++;
    } catch { /* closed meanwhile */ }
  }
  return n;
}

/** How many descriptors of this process refer to the same pipe as `fd`. */
function copiesOf(fd: number): number {
  const target = Deno.readLinkSync(`/proc/self/fd/${fd}`);
  let n = 0;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${e.name}`) === target) n++;
    } catch { /* closed meanwhile (the runtime's own descriptors) */ }
  }
  return n;
}

Deno.test("case 24: receive() closes every descriptor beyond maxFds and reports EMSGSIZE", async () => {
  const [a, b] = createSocketPair("seqpacket");
  using pipe = createPipe();
  // The runtime opens and closes descriptors of its own meanwhile, so count
  // the copies of our pipe rather than all descriptors.
  const base = copiesOf(pipe.reader.fd);
  equal(base, 2);
  try {
    await a.send(enc.encode("three"), { fds: [pipe.reader, pipe.writer, pipe.reader] });
    await rejects(b.receive({ maxFds: 1 }), (e) => code(e) === "EMSGSIZE");
    equal(copiesOf(pipe.reader.fd), base, "the descriptors that arrived were closed");
    // 253 unexpected descriptors with a plain message: all closed.
    await a.send(enc.encode("many"), { fds: Array(253).fill(pipe.reader) });
    await rejects(b.receive(), (e) => code(e) === "EMSGSIZE");
    equal(copiesOf(pipe.reader.fd), base);
    // With room, they arrive, and the caller owns them.
    await a.send(enc.encode("ok"), { fds: Array(253).fill(pipe.reader) });
    const msg = await b.receive({ maxFds: 253 });
    equal(msg.fds.length, 253);
    equal(copiesOf(pipe.reader.fd), base + 253);
    for (const f of msg.fds) f.close();
    equal(copiesOf(pipe.reader.fd), base);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("case 26: send() refuses bad descriptors and more than 253 of them", async () => {
  const [a, b] = createSocketPair();
  try {
    await rejects(a.send(enc.encode("x"), { fds: [-1] }), (e) => code(e) === "EBADF");
    await rejects(a.send(enc.encode("x"), { fds: [9999] }), (e) => code(e) === "EBADF");
    await rejects(
      a.send(enc.encode("x"), { fds: Array(254).fill(0) }),
      (e) => code(e) === "EINVAL",
    );
    await rejects(sendFds(a, []), (e) => code(e) === "EINVAL");
    const closed = createPipe();
    closed.reader.close();
    await rejects(a.send(enc.encode("x"), { fds: [closed.reader] }), (e) => code(e) === "EBADF");
    closed.writer.close();
    equal(b.tryReceive(), null, "nothing was sent");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("case 28: a datagram larger than messageSize is reported, not truncated", async () => {
  const [a, b] = createSocketPair("dgram");
  try {
    await a.send(new Uint8Array(100));
    await rejects(
      b.receive({ messageSize: 10 }),
      (e) => code(e) === "EMSGSIZE" && /100-byte/.test((e as Error).message),
    );
    a.sendBufferSize = 4096;
    await rejects(a.send(new Uint8Array(1 << 20)), (e) => code(e) === "EMSGSIZE");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("a UnixSocket passed over a socket keeps working in the receiver", async () => {
  const [a, b] = createSocketPair();
  const [c, d] = createSocketPair("seqpacket");
  try {
    await a.send(enc.encode("s"), { fds: [c] });
    c.close();
    const msg = await b.receive({ maxFds: 1 });
    using passed = UnixSocket.from(msg.fds[0]);
    equal(passed.type, "seqpacket");
    await passed.send(enc.encode("via passed socket"));
    equal((await d.receive()).text(), "via passed socket");
    const pipe = createPipe();
    throws(() => UnixSocket.from(pipe.reader), (e) => code(e) === "ENOTSOCK");
    ok(!pipe.reader.closed, "a non-socket stays owned by its handle");
    pipe[Symbol.dispose]();
  } finally {
    a.close();
    b.close();
    d.close();
  }
});

Deno.test("SO_PEERCRED and SCM_RIGHTS interoperate with Python's send_fds/recv_fds", async () => {
  using dir = tempDir();
  const path = `${dir.path}/py.sock`;
  using server = listenUnix(path);
  const script = `
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
pid, uid, gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
print("peer", pid, uid, gid, flush=True)
r, w = os.pipe()
os.write(w, b"from-python")
os.close(w)
socket.send_fds(s, [b"py"], [r])
msg, fds, flags, addr = socket.recv_fds(s, 16, 4)
os.write(fds[0], b"deno-to-python-ok")
print("got", msg.decode(), len(fds), flush=True)
`;
  await using py = await spawnReady("python3", ["-c", script, path], { ready: null });
  using conn = await server.accept({ timeout: 10000 });
  equal(await py.nextLine(), `peer ${Deno.pid} ${Deno.uid()} ${Deno.gid()}`);
  equal(conn.peerCredentials().pid, py.process.pid);
  const msg = await conn.receive({ maxFds: 4, timeout: 5000 });
  equal(msg.text(), "py");
  equal(msg.fds.length, 1);
  using r = msg.fds[0];
  equal(dec.decode(await r.readAll({ timeout: 5000 })), "from-python");
  using pipe = createPipe();
  await sendFds(conn, [pipe.writer], { data: enc.encode("deno") });
  pipe.writer.close();
  equal(await py.nextLine(), "got deno 1");
  equal(dec.decode(await pipe.reader.readAll({ timeout: 5000 })), "deno-to-python-ok");
});

Deno.test(
  "case 27: forged SCM_CREDENTIALS from an unprivileged peer are refused; SO_PEERCRED tells the truth",
  {
    ignore: Deno.uid() !== 0,
  },
  async () => {
    using dir = tempDir();
    Deno.chmodSync(dir.path, 0o755);
    const path = `${dir.path}/cred.sock`;
    using server = listenUnix(path, { mode: 0o666 });
    const script = `
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
try:
    s.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, struct.pack("3i", 1, 0, 0))])
    print("sent", flush=True)
except PermissionError:
    print("EPERM", flush=True)
`;
    await using py = await spawnReady(
      "setpriv",
      // The system python: a per-user pyenv shim under /root is not executable by nobody.
      ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script, path],
      { ready: null },
    );
    using conn = await server.accept({ timeout: 10000 });
    deepEqual(
      [conn.peerCredentials().uid, conn.peerCredentials().gid],
      [65534, 65534],
    );
    equal(await py.nextLine(), "EPERM");
    // As root, forging is allowed by the kernel: why only SO_PEERCRED authenticates.
    const [a, b] = createSocketPair("dgram");
    try {
      b.passCredentials = true;
      await a.send(enc.encode("x"), { credentials: { pid: 1, uid: 0, gid: 0 } });
      equal((await b.receive()).credentials?.pid, 1);
      equal(a.peerCredentials().pid, Deno.pid);
    } finally {
      a.close();
      b.close();
    }
  },
);

Deno.test("a C peer exchanges descriptors and credentials with ipckit", async () => {
  const peer = await buildC("sock_peer.c");
  using dir = tempDir();
  const path = `${dir.path}/c.sock`;
  using server = listenUnix(path);
  await using c = await spawnReady(peer, [path], { ready: null });
  using conn = await server.accept({ timeout: 10000 });
  equal(await c.nextLine(), `peer ${Deno.pid} ${Deno.uid()} ${Deno.gid()}`);
  equal(conn.peerCredentials().pid, c.process.pid);
  const msg = await conn.receive({ maxFds: 1, timeout: 5000 });
  equal(msg.text(), "from-c");
  using r = msg.fds[0];
  equal(dec.decode(await r.readAll({ timeout: 5000 })), "piped-by-c");
  using pipe = createPipe();
  await sendFds(conn, [pipe.writer]);
  pipe.writer.close();
  equal(await c.nextLine(), "ok");
  equal(dec.decode(await pipe.reader.readAll({ timeout: 5000 })), "c-was-here");
  equal((await c.process.status).code, 0);
});

Deno.test("UnixSocket methods throw BadResource after close and close() is idempotent", async () => {
  const [a, b] = createSocketPair();
  b.close();
  a.close();
  a.close();
  throws(() => a.peerCredentials(), (e) => e instanceof Deno.errors.BadResource);
  throws(() => a.tryReceive(), (e) => code(e) === "EBADF");
  await rejects(a.send(enc.encode("x")), (e) => code(e) === "EBADF");
  throws(() => a.shutdown(), (e) => code(e) === "EBADF");
  throws(() => a.passCredentials, (e) => code(e) === "EBADF");
});

Deno.test("shutdown('write') ends the peer's stream while reading still works", async () => {
  const [a, b] = createSocketPair();
  try {
    a.shutdown("write");
    equal((await b.receive({ timeout: 1000 })).end, true);
    await b.send(enc.encode("back"));
    equal((await a.receive({ timeout: 1000 })).text(), "back");
    throws(() => a.shutdown("sideways" as "read"), (e) => code(e) === "EINVAL");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("socket streams carry bytes both ways", async () => {
  const [a, b] = createSocketPair();
  try {
    const writer = a.writable.getWriter();
    await writer.write(enc.encode("stream "));
    await writer.write(enc.encode("data"));
    a.shutdown("write");
    const text = await new Response(b.readable).text();
    equal(text, "stream data");
    writer.releaseLock();
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("send() with descriptors sends exactly the bytes of a subarray view", async () => {
  const [a, b] = createSocketPair("seqpacket");
  using pipe = createPipe();
  try {
    const whole = enc.encode("0123456789");
    await a.send(whole.subarray(3, 7), { fds: [pipe.reader] });
    const msg = await b.receive({ maxFds: 1 });
    equal(msg.text(), "3456");
    for (const f of msg.fds) f.close();
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("listenUnix() and bindUnix() refuse the wrong socket type and a missing directory", async () => {
  using dir = tempDir();
  throws(() => listenUnix(`${dir.path}/d`, { type: "dgram" }), (e) => code(e) === "EINVAL");
  throws(() => bindUnix(`${dir.path}/s`, { type: "stream" }), (e) => code(e) === "EINVAL");
  throws(() => listenUnix(`${dir.path}/no/such/dir/s`), (e) => e instanceof Deno.errors.NotFound);
  throws(() => listenUnix(`${dir.path}/m`, { mode: 0o10000 }), (e) => code(e) === "EINVAL");
  throws(() => listenUnix(`${dir.path}/b`, { backlog: -1 }), (e) => code(e) === "EINVAL");
  deepEqual([...Deno.readDirSync(dir.path)], []);
  using inbox = bindUnix(`${dir.path}/d.sock`, { mode: 0o640 });
  equal(Deno.statSync(`${dir.path}/d.sock`).mode! & 0o777, 0o640);
  // A stream client cannot connect to a datagram socket.
  await rejects(connectUnix(`${dir.path}/d.sock`), (e) => code(e) === "EPROTOTYPE");
  equal(inbox.type, "dgram");
});

Deno.test("tryAccept() returns null with nobody waiting; the listener iterates connections", async () => {
  const name = `ipckit-test-${Deno.pid}-iter`;
  const server = listenUnix(name, { abstract: true });
  equal(server.tryAccept(), null);
  const clients = await Promise.all([1, 2].map(() => connectUnix(name, { abstract: true })));
  const seen: number[] = [];
  for await (const conn of server) {
    seen.push(conn.peerCredentials().pid);
    conn.close();
    if (seen.length === 2) server.close();
  }
  deepEqual(seen, [Deno.pid, Deno.pid]);
  for (const c of clients) c.close();
});

Deno.test("receive({ truncate: true }) keeps a long datagram's start and marks it truncated", async () => {
  const [a, b] = createSocketPair("dgram");
  try {
    await a.send(enc.encode("0123456789"));
    const m = await b.receive({ messageSize: 4, truncate: true });
    ok(m instanceof Message);
    equal(m.text(), "0123");
    equal(m.truncated, true);
    await a.send(enc.encode("ok"));
    equal((await b.receive({ messageSize: 4 })).truncated, false);
    throws(() => b.tryReceive({ messageSize: -1 }), (e) => code(e) === "EINVAL");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("send() resolves to the bytes sent; trySend() returns them or null when full", async () => {
  const [a, b] = createSocketPair("seqpacket");
  try {
    equal(await a.send(enc.encode("four")), 4);
    equal(a.trySend(enc.encode("xy")), 2);
    a.sendBufferSize = 4096;
    let full = false;
    for (let i = 0; i < 10000 && !full; i++) full = a.trySend(new Uint8Array(1024)) === null;
    equal(full, true);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("messages() yields each seqpacket message until the peer closes", async () => {
  const [a, b] = createSocketPair("seqpacket");
  try {
    for (const t of ["one", "two", "three"]) await a.send(enc.encode(t));
    a.close();
    const got: string[] = [];
    for await (const m of b.messages()) got.push(m.text());
    deepEqual(got, ["one", "two", "three"]);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("messages() on a datagram socket ends when the socket is closed, and rejects on abort", async () => {
  const [a, b] = createSocketPair("dgram");
  try {
    await a.send(enc.encode("x"));
    const got: string[] = [];
    for await (const m of b.messages()) {
      got.push(m.text());
      setTimeout(() => b.close(), 5);
    }
    deepEqual(got, ["x"]);
    const [c, d] = createSocketPair("dgram");
    using _c = c;
    using _d = d;
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("stop")), 5);
    await rejects(
      (async () => {
        for await (const _ of d.messages({ signal: ac.signal })) { /* nothing arrives */ }
      })(),
      /stop/,
    );
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("a received datagram carries its sender's address; stream messages carry none", async () => {
  const inboxName = `ipckit-test-${Deno.pid}-addr-in`;
  const fromName = `ipckit-test-${Deno.pid}-addr-from`;
  using inbox = bindUnix(inboxName, { abstract: true });
  using anon = await connectUnix(inboxName, { abstract: true, type: "dgram" });
  await anon.send(enc.encode("anonymous"));
  const m1 = await inbox.receive({ timeout: 1000 });
  equal(m1.text(), "anonymous");
  equal(m1.address, null);
  // A bound sender (Python's sendto from a bound socket): its address comes along.
  const py = await command("python3", [
    "-c",
    "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\n" +
    "s.bind('\\0'+sys.argv[2])\ns.sendto(b'hi','\\0'+sys.argv[1])",
    inboxName,
    fromName,
  ]).output();
  equal(py.code, 0);
  const m2 = await inbox.receive({ timeout: 1000 });
  equal(m2.text(), "hi");
  equal(m2.address, `@${fromName}`);
  const [a, b] = createSocketPair("stream");
  try {
    await a.send(enc.encode("s"));
    equal((await b.receive()).address, undefined);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("receiveInto() and tryReceiveInto() fill a caller's buffer and report the metadata", async () => {
  const [a, b] = createSocketPair("seqpacket");
  const [c, d] = createSocketPair();
  try {
    const buf = new Uint8Array(8);
    equal(b.tryReceiveInto(buf), null);
    await a.send(enc.encode("hey"), { fds: [c] });
    const got = await b.receiveInto(buf, { maxFds: 1, timeout: 1000 });
    equal(got.length, 3);
    equal(dec.decode(buf.subarray(0, got.length)), "hey");
    equal(got.fds.length, 1);
    for (const f of got.fds) f.close();
    await a.send(enc.encode("0123456789"));
    await rejects(b.receiveInto(buf), (e) => code(e) === "EMSGSIZE");
    await a.send(enc.encode("0123456789"));
    const cut = b.tryReceiveInto(buf, { truncate: true })!;
    deepEqual([cut.length, cut.truncated], [8, true]);
    a.close();
    equal((await b.receiveInto(buf)).end, true);
    throws(() => b.tryReceiveInto("x" as unknown as Uint8Array), (e) => code(e) === "EINVAL");
    // Options that are not an object: EINVAL, not a TypeError (found by the fuzz test).
    for (const bad of [null, 1, "x"]) {
      throws(() => b.tryReceiveInto(buf, bad as never), (e) => code(e) === "EINVAL");
      await rejects(b.receiveInto(buf, bad as never), (e) => code(e) === "EINVAL");
      await rejects(b.messages(bad as never).next(), (e) => code(e) === "EINVAL");
    }
  } finally {
    for (const s of [a, b, c, d]) s.close();
  }
});
