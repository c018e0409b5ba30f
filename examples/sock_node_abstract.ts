/**
 * Talking to Node.js over an abstract socket. Node (libuv) pads abstract
 * names with NULs to the whole address, so ipckit must too, with
 * `padAbstract: true`, in both directions; an unpadded name is a different
 * address and gets ECONNREFUSED.
 *
 * Run: deno run --allow-ffi --allow-read --allow-run examples/sock_node_abstract.ts
 * (needs `node` on PATH)
 */
import { connectUnix, listenUnix } from "../mod.ts";

const dec = new TextDecoder();
const name = `ipckit-example-node-${Deno.pid}`;

// ipckit serves, Node connects.
{
  using server = listenUnix(`@${name}`, { padAbstract: true });
  const node = new Deno.Command("node", {
    args: ["-e", `require("net").connect("\\0${name}", function () { this.end("hi from node"); })`],
  }).spawn();
  const conn = await server.accept({ timeout: 5000 });
  console.log(`ipckit server got: ${dec.decode(await conn.readAll({ timeout: 5000 }))}`);
  conn.close(); // Node waits for our end of the connection before it exits
  await node.status;
}

// Node serves, ipckit connects.
{
  const node = new Deno.Command("node", {
    args: [
      "-e",
      `const s = require("net").createServer((c) => { c.end("hi from node"); s.close(); });
       s.listen("\\0${name}", () => console.log("ready"));`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = node.stdout.getReader();
  await reader.read(); // "ready"
  reader.releaseLock();
  const client = await connectUnix(`@${name}`, { padAbstract: true, timeout: 5000 });
  console.log(`ipckit client got: ${dec.decode(await client.readAll({ timeout: 5000 }))}`);
  client.close();
  await node.stdout.cancel();
  await node.status;
}
