/**
 * A pre-fork server: the parent accepts connections and hands each one, as
 * a descriptor, to one of its worker processes over a socket pair; the
 * worker serves the client directly, the parent never touches its data.
 *
 * Run: deno run --allow-all examples/sock_prefork.ts
 */
import {
  connectUnix,
  createSocketPair,
  listenUnix,
  receiveFds,
  sendFds,
  UnixSocket,
  withInheritedFds,
} from "../mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const [role, fdArg] = Deno.args;

if (role === "worker") {
  // Our end of the socket pair, inherited under the same number.
  using parent = new UnixSocket(Number(fdArg));
  for (;;) {
    let fds;
    try {
      fds = await receiveFds(parent);
    } catch {
      break; // the parent closed its end: no more work
    }
    using client = UnixSocket.from(fds[0]);
    const request = await client.receive({ timeout: 5000 });
    await client.writeAll(enc.encode(`worker ${Deno.pid} served "${request.text()}"`));
  }
} else {
  const WORKERS = 2;
  const CLIENTS = 4;
  const dir = Deno.makeTempDirSync({ prefix: "ipckit-example-" });
  try {
    using server = listenUnix(`${dir}/prefork.sock`);
    const self = new URL(import.meta.url).pathname;
    const workers = Array.from({ length: WORKERS }, () => {
      const [mine, theirs] = createSocketPair("seqpacket");
      const proc = withInheritedFds([theirs], () =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", "--no-check", self, "worker", String(theirs.fd)],
        }).spawn());
      theirs.close();
      return { channel: mine, proc };
    });

    const clients = Array.from({ length: CLIENTS }, async (_, i) => {
      using s = await connectUnix(`${dir}/prefork.sock`, { timeout: 5000 });
      await s.send(enc.encode(`request ${i}`));
      s.shutdown("write");
      return dec.decode(await s.readAll({ timeout: 10000 }));
    });

    for (let i = 0; i < CLIENTS; i++) {
      using conn = await server.accept({ timeout: 10000 });
      await sendFds(workers[i % WORKERS].channel, [conn]); // the worker gets its own copy
    }
    for (const reply of await Promise.all(clients)) console.log(reply);
    for (const w of workers) w.channel.close();
    for (const w of workers) await w.proc.status;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
