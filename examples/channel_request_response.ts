/**
 * Request/response between two Deno processes over a pair of channels:
 * the client sends numbered requests on one, a server process answers each
 * on the other. Both sides wait with `receive()` (a short spin, then a
 * futex sleep), so an idle server costs no CPU; stopping the client closes
 * its end and the server's `messages()` loop ends.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-write --allow-run examples/channel_request_response.ts [COUNT]
 * ```
 *
 * @module
 */
import { createChannel, openChannel } from "../lib/channel.ts";

if (Deno.args[0] === "server") {
  using requests = openChannel(Deno.args[1], "receive");
  using responses = openChannel(Deno.args[2], "send");
  console.log("ready");
  let served = 0;
  for await (const req of requests.messages()) {
    const n = Number(req.text().split(" ")[1]);
    await responses.send(`square ${n * n}`, { timeout: 10000 });
    served++;
  }
  console.error(`server: served ${served} requests`);
} else {
  const count = Number(Deno.args[0] ?? 1000);
  const reqName = `/ipckit-req-${Deno.pid}`;
  const respName = `/ipckit-resp-${Deno.pid}`;
  using requests = createChannel(reqName, "send", { capacity: 16, messageSize: 64 });
  using responses = createChannel(respName, "receive", { capacity: 16, messageSize: 64 });
  let server: Deno.ChildProcess | undefined;
  try {
    server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-ffi",
        "--allow-read",
        "--allow-write",
        new URL(import.meta.url).pathname,
        "server",
        reqName,
        respName,
      ],
      stdout: "piped",
    }).spawn();
    const ready = await server.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
    if (ready.value?.trim() !== "ready") throw new Error("server did not start");
  } finally {
    requests.remove();
    responses.remove();
  }
  const t0 = performance.now();
  let ok = 0;
  for (let i = 0; i < count; i++) {
    await requests.send(`request ${i}`, { timeout: 10000 });
    const answer = (await responses.receive({ timeout: 10000 })).text();
    if (answer === `square ${i * i}`) ok++;
  }
  const us = (performance.now() - t0) * 1000 / count;
  requests.close();
  await server.status;
  console.log(`${ok}/${count} answers correct, ${us.toFixed(1)} µs per round trip`);
}
