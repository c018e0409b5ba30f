/**
 * A file server over one System V message queue.
 *
 * The server owns one request queue. A client makes its own private reply
 * queue (`IPC_PRIVATE`: only its id reaches it), then sends a request whose
 * message type says what it wants (1 = read a file, 2 = stat a file) and whose
 * body names its reply queue and the path. The server answers on the client's
 * queue: type 1 carries a chunk of the file, type 2 the end (with a JSON
 * summary), type 3 an error. The server stops on a request of type 9.
 *
 * Run it with no arguments for a demo: it serves in this process and starts
 * two client processes (`client QUEUE_ID PATH`) that fetch files at once.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-run examples/sysv_file_server.ts
 * ```
 */
import {
  createSysvMessageQueue,
  openSysvMessageQueue,
  sysvLimits,
  type SysvMessageQueue,
} from "../mod.ts";

const READ = 1, STAT = 2, STOP = 9;
const CHUNK = 1, END = 2, ERROR = 3;
const dec = new TextDecoder();

interface Request {
  reply: number;
  path: string;
}

async function answer(type: number, req: Request): Promise<void> {
  using reply = openSysvMessageQueue({ id: req.reply });
  try {
    if (type === STAT) {
      const st = await Deno.stat(req.path);
      await reply.send(JSON.stringify({ size: st.size }), { type: END, timeout: 5000 });
      return;
    }
    const data = await Deno.readFile(req.path);
    const chunk = sysvLimits().msgmax;
    for (let at = 0; at < data.length; at += chunk) {
      await reply.send(data.subarray(at, at + chunk), { type: CHUNK, timeout: 5000 });
    }
    await reply.send(JSON.stringify({ size: data.length }), { type: END, timeout: 5000 });
  } catch (e) {
    await reply.send(String(e), { type: ERROR, timeout: 5000 });
  }
}

/** Serves requests on `queue` until a STOP request arrives. */
export async function serve(queue: SysvMessageQueue): Promise<number> {
  let served = 0;
  for (;;) {
    const msg = await queue.receive();
    if (msg.type === STOP) return served;
    const req = JSON.parse(dec.decode(msg.bytes)) as Request;
    served++;
    answer(msg.type, req); // concurrently: one slow client does not hold up the rest
  }
}

/** Fetches `path` through the server's queue `serverId`; returns the bytes. */
export async function fetchFile(serverId: number, path: string): Promise<Uint8Array> {
  using server = openSysvMessageQueue({ id: serverId });
  using reply = createSysvMessageQueue({ removeOnClose: true });
  await server.send(JSON.stringify({ reply: reply.id, path }), { type: READ, timeout: 5000 });
  const parts: Uint8Array[] = [];
  for (;;) {
    const msg = await reply.receive({ timeout: 10000 });
    if (msg.type === CHUNK) parts.push(msg.bytes);
    else if (msg.type === ERROR) throw new Error(dec.decode(msg.bytes));
    else break;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

async function demo(): Promise<void> {
  using queue = createSysvMessageQueue({ removeOnClose: true });
  const serving = serve(queue);
  const self = new URL(import.meta.url).pathname;
  const files = [self, "/etc/hostname-that-does-not-exist"];
  const clients = files.map((path) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-ffi", "--allow-read", self, "client", String(queue.id), path],
      stdout: "piped",
    }).output()
  );
  for (const out of await Promise.all(clients)) console.log(dec.decode(out.stdout).trim());
  await queue.send("", { type: STOP });
  console.log(`server answered ${await serving} requests`);
}

if (import.meta.main) {
  const [mode, id, path] = Deno.args;
  if (mode === "client") {
    try {
      const data = await fetchFile(Number(id), path);
      console.log(`client got ${path.split("/").pop()}: ${data.length} bytes`);
    } catch (e) {
      console.log(
        `client error for ${path.split("/").pop()}: ${(e as Error).message.split(":")[0]}`,
      );
    }
  } else {
    await demo();
  }
}
