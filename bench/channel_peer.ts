/**
 * The Deno side of bench/channel_cases.ts. Parent modes create the channels,
 * start a peer (this script again, or the C ring in "c" modes), measure and
 * print one figure.
 *
 *   stream COUNT SIZE             msg/s and MiB/s, Deno producer → Deno consumer (this process)
 *   pingpong COUNT busy|wait      µs per round trip with a Deno echo peer
 *   producer NAME COUNT SIZE      (child) sends COUNT messages with sendMany batches of 64
 *   echo IN OUT busy|wait         (child) answers each message
 */
import {
  type ChannelReceiver,
  type ChannelSender,
  createChannel,
  openChannel,
} from "../lib/channel.ts";

const [mode, ...args] = Deno.args;
const BATCH = 64;

function spawnSelf(
  childArgs: string[],
): { ready: Promise<void>; status: Promise<Deno.CommandStatus> } {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--no-check", new URL(import.meta.url).pathname, ...childArgs],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const ready = reader.read().then(({ value }) => {
    if (!value?.startsWith("ready")) throw new Error(`peer did not start: ${value}`);
    reader.releaseLock();
  });
  return { ready, status: proc.status.finally(() => proc.stdout.cancel().catch(() => {})) };
}

const name = (tag: string) => `/ipckit-bench-${Deno.pid}-${tag}`;

/** Busy-polling receive: tryReceiveInto in a loop, never yielding. */
function spinReceive(rx: ChannelReceiver, buf: Uint8Array): number {
  for (;;) {
    const r = rx.tryReceiveInto(buf);
    if (r !== null) return r.length;
  }
}

function spinSend(tx: ChannelSender, msg: Uint8Array): void {
  while (tx.trySend(msg) === null) { /* full */ }
}

switch (mode) {
  case "stream": {
    const count = Number(args[0]);
    const size = Number(args[1]);
    const n = name("s");
    using rx = createChannel(n, "receive", {
      capacity: size <= 1024 ? 4096 : 64,
      messageSize: size,
    });
    const peer = spawnSelf(["producer", n, String(count), String(size)]);
    await peer.ready;
    rx.remove();
    const buf = new Uint8Array(size);
    let got = 0;
    let sum = 0;
    const t0 = performance.now();
    if (size <= 1024) {
      // Read in place (the first word of each message), no copy, no allocation.
      const visit = (u8: Uint8Array, off: number) => {
        sum += u8[off];
      };
      while (got < count) got += await rx.receiveEach(visit, { max: count - got });
    } else {
      // Copy each message out (like receiveInto), a batch per wait.
      const copy = (u8: Uint8Array, off: number, len: number) => {
        buf.set(u8.subarray(off, off + len));
      };
      while (got < count) got += await rx.receiveEach(copy, { max: count - got });
    }
    const dt = (performance.now() - t0) / 1000;
    await peer.status;
    console.log(
      `${(count / dt).toFixed(0)} ${(count * size / 1048576 / dt).toFixed(1)} ${sum & 0}`,
    );
    break;
  }
  case "producer": {
    const [n, countText, sizeText] = args;
    using tx = openChannel(n, "send");
    console.log("ready");
    const count = Number(countText);
    const size = Number(sizeText);
    const batch = Array.from({ length: BATCH }, () => new Uint8Array(size));
    for (let i = 0; i < count;) {
      const k = Math.min(BATCH, count - i);
      for (let j = 0; j < k; j++) batch[j][0] = (i + j) & 0xff;
      await tx.sendMany(k === BATCH ? batch : batch.slice(0, k));
      i += k;
    }
    break;
  }
  case "pingpong": {
    const count = Number(args[0]);
    const how = args[1];
    const a = name("a");
    const b = name("b");
    using out = createChannel(a, "send", { capacity: 4, messageSize: 64 });
    using inn = createChannel(b, "receive", { capacity: 4, messageSize: 64 });
    const peer = spawnSelf(["echo", a, b, how]);
    await peer.ready;
    out.remove();
    inn.remove();
    const msg = new Uint8Array(64);
    const buf = new Uint8Array(64);
    const warm = Math.floor(count / 10);
    let t0 = 0;
    for (let i = 0; i < count + warm; i++) {
      if (i === warm) t0 = performance.now();
      if (how === "busy") {
        spinSend(out, msg);
        spinReceive(inn, buf);
      } else {
        await out.send(msg);
        await inn.receiveInto(buf);
      }
    }
    const us = (performance.now() - t0) * 1000 / count;
    out.close();
    await peer.status;
    console.log(us.toFixed(2));
    break;
  }
  case "echo": {
    const [a, b, how] = args;
    using inn = openChannel(a, "receive");
    using out = openChannel(b, "send");
    console.log("ready");
    const buf = new Uint8Array(64);
    try {
      for (;;) {
        if (how === "busy") {
          const n = spinReceive(inn, buf);
          spinSend(out, buf.subarray(0, n));
        } else {
          const { length } = await inn.receiveInto(buf);
          await out.send(buf.subarray(0, length));
        }
      }
    } catch (e) {
      if ((e as { code?: string }).code !== "EPIPE") throw e;
    }
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
