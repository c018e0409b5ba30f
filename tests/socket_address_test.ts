import { equal, match, ok, rejects, throws } from "node:assert/strict";
import { bindUnix, connectUnix, IpcError, listenUnix } from "../mod.ts";
import { have, ipckitInProcess, tempDir } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function run(cmd: string, args: string[], stdin = "") {
  const p = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const w = p.stdin.getWriter();
  await w.write(enc.encode(stdin));
  await w.close();
  const out = await p.output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("@name is the abstract form everywhere an address is taken", async () => {
  const name = `@ipckit-test-at-${Deno.pid}`;
  using server = listenUnix(name, { type: "seqpacket" });
  equal(server.address, name);
  // "@x" with abstract: true is the same name, not "@@x".
  using a = await connectUnix(name, { type: "seqpacket" });
  using b = await connectUnix(name.slice(1), { type: "seqpacket", abstract: true });
  using c = await connectUnix(name, { type: "seqpacket", abstract: true });
  for (const s of [a, b, c]) {
    using conn = await server.accept({ timeout: 1000 });
    equal(conn.localAddress, name);
    equal(s.peerAddress, name);
  }
  throws(() => Deno.lstatSync(name)); // nothing named "@..." was created here
});

Deno.test("datagrams: a bound client, sendTo(), connect() and the sender's address", async () => {
  using dir = tempDir();
  using server = bindUnix(`${dir.path}/server`);
  using client = await connectUnix(`${dir.path}/server`, {
    type: "dgram",
    bind: `${dir.path}/client`,
  });
  equal(Deno.statSync(`${dir.path}/client`).mode! & 0o777, 0o600);
  await client.send(enc.encode("question"));
  const q = await server.receive({ timeout: 1000 });
  equal(q.address, `${dir.path}/client`);
  await server.sendTo(q.address!, enc.encode("answer"));
  const r = await client.receive({ timeout: 1000 });
  equal(r.text(), "answer");
  equal(r.address, `${dir.path}/server`);
  equal(server.trySendTo(q.address!, enc.encode("again")), 5);
  equal((await client.receive({ timeout: 1000 })).text(), "again");

  // An autobound client has a kernel-picked abstract name.
  using auto = await connectUnix(`${dir.path}/server`, { type: "dgram", bind: true });
  match(auto.localAddress!, /^@[0-9a-f]{5}$/);

  // connect() on a bound socket: send() then goes there.
  using other = bindUnix(`${dir.path}/other`);
  other.connect(`${dir.path}/server`);
  await other.send(enc.encode("via connect"));
  const m = await server.receive({ timeout: 1000 });
  equal(m.text(), "via connect");
  equal(m.address, `${dir.path}/other`);

  client.close();
  throws(() => Deno.lstatSync(`${dir.path}/client`)); // removed on close
  await rejects(
    server.sendTo(`${dir.path}/client`, enc.encode("x")),
    (e) => e instanceof IpcError && ["ENOENT", "ECONNREFUSED"].includes(e.code),
  );
  const [s1] = [await connectUnix(`${dir.path}/server`, { type: "dgram" })];
  throws(() => s1.connect("@x"), (e) => e instanceof IpcError && e.code === "ECONNREFUSED");
  s1.close();
  using stream = listenUnix(`${dir.path}/stream`);
  using sc = await connectUnix(`${dir.path}/stream`);
  await rejects(
    sc.sendTo(`${dir.path}/server`, enc.encode("x")),
    (e) => (e as IpcError).code === "EINVAL",
  );
  void stream;
});

Deno.test("error hints fit the kind of address", async () => {
  using dir = tempDir();
  await rejects(connectUnix(`@ipckit-test-none-${Deno.pid}`), (e) => {
    ok(e instanceof IpcError && e.code === "ECONNREFUSED");
    match(e.message, /abstract name/);
    ok(!/stale socket file/.test(e.message), e.message);
    return true;
  });
  const path = `${dir.path}/stale`;
  listenUnix(path, { unlinkOnClose: false }).close();
  await rejects(connectUnix(path), (e) => {
    ok(e instanceof IpcError && e.code === "ECONNREFUSED");
    match(e.message, /stale socket file/);
    return true;
  });
  using l = listenUnix(`${dir.path}/typed`, { type: "seqpacket" });
  await rejects(connectUnix(`${dir.path}/typed`), (e) => {
    match((e as Error).message, /another type/);
    return true;
  });
  void l;
});

Deno.test("ipckit sock takes @name in listen and send", async () => {
  const name = `@ipckit-test-cli-at-${Deno.pid}`;
  const listening = ipckitInProcess(["sock", "listen", name, "--type", "dgram", "--count", "1"]);
  let sent = -1;
  for (let i = 0; i < 200 && sent !== 0; i++) {
    if (i) await new Promise((r) => setTimeout(r, 5));
    sent = (await ipckitInProcess(["sock", "send", name, "--type", "dgram", "hi"])).code;
  }
  equal(sent, 0, "the listener never came up"); // else the awaits below would hang
  const out = await listening;
  equal(out.code, 0, out.stderr);
  equal(out.stdout, "hi\n");
});

Deno.test({
  name: "socat and nc -U talk to ipckit at paths and @names",
  ignore: !have("socat", "socat") || !have("nc", "netcat-openbsd"),
  async fn() {
    using dir = tempDir();
    const name = `@ipckit-test-socat-${Deno.pid}`;
    using server = listenUnix(name);
    const socat = run("socat", ["-", `ABSTRACT-CONNECT:${name.slice(1)}`], "from socat\n");
    {
      using c = await server.accept({ timeout: 5000 });
      equal(dec.decode(await c.readAll({ timeout: 5000 })), "from socat\n");
      await c.writeAll(enc.encode("to socat\n"));
    }
    equal((await socat).stdout, "to socat\n");

    using file = listenUnix(`${dir.path}/nc.sock`);
    const nc = run("nc", ["-U", "-N", `${dir.path}/nc.sock`], "from nc\n");
    {
      using c = await file.accept({ timeout: 5000 });
      equal(dec.decode(await c.readAll({ timeout: 5000 })), "from nc\n");
    }
    equal((await nc).code, 0);

    // ipckit's CLI to socat's abstract datagram receiver.
    const recv = new Deno.Command("socat", {
      args: ["-u", `ABSTRACT-RECV:${name.slice(1)}-d`, "-"],
      stdout: "piped",
    }).spawn();
    let sent = -1;
    for (let i = 0; i < 200 && sent !== 0; i++) {
      if (i) await new Promise((r) => setTimeout(r, 10));
      sent = (await ipckitInProcess(["sock", "send", `${name}-d`, "--type", "dgram", "dgram hi"]))
        .code;
    }
    equal(sent, 0, "the receiver never came up"); // else the read below would hang
    const reader = recv.stdout.getReader();
    const { value } = await reader.read();
    equal(dec.decode(value), "dgram hi");
    reader.releaseLock();
    recv.kill();
    await recv.output().catch(() => {});
  },
});
