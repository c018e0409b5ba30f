/**
 * A server that authenticates callers by uid and pid (SO_PEERCRED).
 *
 * It listens on an abstract socket name, which any process in the network
 * namespace can reach and which has no file permissions at all, so it decides
 * per connection from the credentials the kernel recorded at connect time
 * (not from anything the caller claims). Callers with this process's uid are
 * welcome; anyone else is refused. Run as root, it also starts a caller as
 * `nobody` to show the refusal.
 *
 * Run: deno run --allow-all examples/sock_auth_server.ts
 */
import { connectUnix, listenUnix, type UnixSocket } from "../mod.ts";
import { otherUserSupport, stageForNobody } from "./_as_user.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const [role, name] = Deno.args;

if (role === "client") {
  using s = await connectUnix(name, { type: "seqpacket", timeout: 5000 });
  await s.send(enc.encode("hello"));
  const reply = await s.receive({ timeout: 5000 });
  console.log(`client uid ${Deno.uid()}: ${reply.text()}`);
} else {
  const name = `@ipckit-example-auth-${Deno.pid}`;
  using server = listenUnix(name, { type: "seqpacket" });
  const allowedUid = Deno.uid();

  const handle = async (conn: UnixSocket) => {
    using c = conn;
    const who = c.peerCredentials();
    await c.receive({ timeout: 5000 });
    const ok = who.uid === allowedUid;
    console.log(`server: pid ${who.pid} uid ${who.uid} -> ${ok ? "accepted" : "refused"}`);
    await c.send(enc.encode(ok ? `welcome, pid ${who.pid}` : "refused: wrong user"));
  };

  const self = new URL(import.meta.url).pathname;
  const flags = ["run", "--allow-all", "--no-check"];
  const run = (argv: string[], env: Record<string, string> = { NO_COLOR: "1" }, cwd?: string) =>
    new Deno.Command(argv[0], { args: [...argv.slice(1), "client", name], env, cwd }).output();
  const clients = [run([Deno.execPath(), ...flags, self])];
  // As root, a second client runs as nobody, from a stage nobody can read.
  using stage = otherUserSupport().ok
    ? stageForNobody(["examples/sock_auth_server.ts"])
    : undefined;
  if (stage) {
    clients.push(
      run(
        stage.command([...flags, stage.path("examples/sock_auth_server.ts")]),
        stage.env,
        stage.dir,
      ),
    );
  }
  // seqpacket: the client's "hello" and our reply are single messages.
  for (let i = 0; i < clients.length; i++) await handle(await server.accept({ timeout: 10000 }));
  for (const out of await Promise.all(clients)) {
    Deno.stdout.writeSync(out.stdout);
    if (!out.success) throw new Error(dec.decode(out.stderr));
  }
}
