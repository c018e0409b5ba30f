/**
 * The classic FIFO "sequence number" server: one server reads requests from a
 * well-known FIFO; each client makes a private FIFO, sends its path, and reads
 * the next sequence number from it. Every client is a separate process.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-write --allow-run examples/fifo_sequence_server.ts
 * ```
 *
 * With no arguments it runs the server and spawns four clients (each asks for
 * three numbers), then checks that the twelve numbers are all different.
 * `server DIR COUNT` and `client DIR REQUESTS` run one role.
 */
import { createFifo, openFifo, removeFifo } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Serves `count` requests from `${dir}/seq.fifo`, replying with 1, 2, 3... */
export async function serve(dir: string, count: number, log = console.log): Promise<void> {
  const wellKnown = `${dir}/seq.fifo`;
  createFifo(wellKnown);
  try {
    // Hold a write end ourselves so the read end never sees EOF between clients.
    const readerP = openFifo(wellKnown, "read");
    using keepOpen = await openFifo(wellKnown, "write");
    using requests = await readerP;
    let seq = 0;
    let pending = "";
    const buf = new Uint8Array(4096);
    while (seq < count) {
      const n = await requests.read(buf, { timeout: 30_000 });
      if (n === null) break;
      pending += decoder.decode(buf.subarray(0, n));
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0 && seq < count) {
        const replyPath = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        using reply = await openFifo(replyPath, "write", { timeout: 5_000 });
        await reply.writeAll(encoder.encode(`${++seq}\n`));
        log(`server: #${seq} -> ${replyPath.split("/").pop()}`);
      }
    }
    keepOpen.close();
  } finally {
    removeFifo(wellKnown);
  }
}

/** Asks the server for `requests` numbers and returns them. */
export async function client(dir: string, requests: number): Promise<number[]> {
  const mine = `${dir}/client-${Deno.pid}.fifo`;
  createFifo(mine);
  const got: number[] = [];
  try {
    for (let i = 0; i < requests; i++) {
      {
        // Requests are shorter than PIPE_BUF, so each write arrives whole.
        using server = await openFifo(`${dir}/seq.fifo`, "write", { timeout: 10_000 });
        await server.writeAll(encoder.encode(`${mine}\n`));
      }
      using reply = await openFifo(mine, "read", { timeout: 10_000 });
      got.push(Number(decoder.decode(await reply.readAll()).trim()));
    }
  } finally {
    removeFifo(mine);
  }
  return got;
}

if (import.meta.main) {
  const [role, dir, n] = Deno.args;
  if (role === "server") await serve(dir, Number(n));
  else if (role === "client") console.log((await client(dir, Number(n))).join(" "));
  else {
    const clients = 4, each = 3;
    const tmp = await Deno.makeTempDir({ prefix: "ipckit-seq-" });
    try {
      const server = serve(tmp, clients * each);
      const script = new URL(import.meta.url).pathname;
      const children = Array.from({ length: clients }, () =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-ffi",
            "--allow-read",
            "--allow-write",
            script,
            "client",
            tmp,
            String(each),
          ],
          stdout: "piped",
        }).output());
      const outputs = await Promise.all(children);
      await server;
      const numbers = outputs.flatMap((o) =>
        decoder.decode(o.stdout).trim().split(" ").map(Number)
      );
      outputs.forEach((o, i) =>
        console.log(`client ${i + 1} got: ${decoder.decode(o.stdout).trim()}`)
      );
      const unique = new Set(numbers).size === numbers.length && numbers.length === clients * each;
      console.log(unique ? `all ${numbers.length} numbers distinct` : "DUPLICATE numbers!");
      if (!unique) Deno.exitCode = 1;
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }
}
