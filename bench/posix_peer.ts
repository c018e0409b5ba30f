// Peer process for bench/posix_bench.ts: echoes a queue, or
// answers semaphore pings, using ipckit's async API (no allocation per message).
import { openMessageQueue, openSemaphore } from "../mod.ts";

const [mode, a, b, nText] = Deno.args;
const n = Number(nText);
if (mode === "mq-rtt") {
  using qa = openMessageQueue(a);
  using qb = openMessageQueue(b);
  console.log("ready");
  const buf = new Uint8Array(qa.messageSize);
  for (let i = 0; i < n; i++) {
    const { length } = await qa.receiveInto(buf);
    await qb.send(buf.subarray(0, length));
  }
} else if (mode === "sem-rtt") {
  using sa = openSemaphore(a);
  using sb = openSemaphore(b);
  console.log("ready");
  for (let i = 0; i < n; i++) {
    await sa.wait();
    sb.post();
  }
}
