/**
 * Records from a Deno script to a C program over a shared-memory channel:
 * the script fills each record in place in the ring (`reserve()` /
 * `commit()`, no copy), the C program (`examples/channel_records.c`, built
 * here with gcc, using `include/ipckit_channel.h`) reads them and prints a
 * summary when the script closes its end.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-write --allow-run examples/channel_records.ts [COUNT]
 * ```
 *
 * @module
 */
import { createChannel } from "../lib/channel.ts";

const count = Number(Deno.args[0] ?? 10000);
const RECORD = 32; // u32 id, u32 flags, f64 value, char label[16]
const root = new URL("..", import.meta.url).pathname;
const bin = await Deno.makeTempFile({ prefix: "ipckit-records-" });
const name = `/ipckit-records-${Deno.pid}`;
const encoder = new TextEncoder();

try {
  const cc = await new Deno.Command("gcc", {
    args: ["-O2", "-o", bin, `${root}examples/channel_records.c`],
    stderr: "inherit",
  }).output();
  if (!cc.success) throw new Error("gcc failed");

  const tx = createChannel(name, "send", { capacity: 256, messageSize: RECORD });
  const consumer = new Deno.Command(bin, { args: [name], stdout: "piped" }).spawn();
  const lines = consumer.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    await lines.read(); // "ready": the C side has opened the channel
    tx.remove(); // both ends are attached: the name can go

    for (let id = 0; id < count; id++) {
      const slot = await tx.reserve({ timeout: 10000 });
      const view = new DataView(slot.buffer, slot.byteOffset, RECORD);
      view.setUint32(0, id, true);
      view.setUint32(4, 0, true);
      view.setFloat64(8, id / 2, true);
      slot.fill(0, 16, 32);
      encoder.encodeInto(`rec-${id}`.slice(0, 15), slot.subarray(16, 32));
      tx.commit(RECORD);
    }
  } finally {
    tx.close(); // the C side drains the ring, then sees EPIPE and ends
  }
  let out = "";
  for (;;) {
    const { value, done } = await lines.read();
    if (done) break;
    out += value;
  }
  const status = await consumer.status;
  console.log(out.trim());
  if (!status.success) Deno.exit(1);
} finally {
  await Deno.remove(bin);
  try {
    Deno.removeSync(`/dev/shm${name}`);
  } catch { /* already removed */ }
}
