/**
 * Request and response over datagrams. The client binds its own address so
 * the server can answer it; the server answers whoever asked, using the
 * sender's address every receive carries. socat can play either side:
 *
 *   socat UNIX-RECVFROM:/tmp/rpc.sock,fork SYSTEM:'tr a-z A-Z'   # a server
 *
 * Run: deno run --allow-ffi --allow-read --allow-write examples/sock_dgram_rpc.ts [SERVER]
 * Without SERVER it starts its own server (an abstract name) and asks it.
 */
import { bindUnix, connectUnix } from "../mod.ts";

const enc = new TextEncoder();

async function ask(server: string, question: string): Promise<string> {
  // bind: true lets the kernel pick an abstract name for us (autobind).
  using client = await connectUnix(server, { type: "dgram", bind: true, timeout: 1000 });
  await client.send(enc.encode(question));
  return (await client.receive({ timeout: 5000 })).text();
}

const given = Deno.args[0];
if (given) {
  console.log(await ask(given, "ping from ipckit"));
} else {
  const name = `@ipckit-example-rpc-${Deno.pid}`;
  using server = bindUnix(name);
  const serving = (async () => {
    const req = await server.receive({ timeout: 5000 });
    console.log(`server: "${req.text()}" from ${req.address}`);
    await server.sendTo(req.address!, enc.encode(req.text().toUpperCase()));
  })();
  console.log(`client: ${await ask(name, "ping from ipckit")}`);
  await serving;
}
