/**
 * Several processes updating records of one shared file under byte-range
 * locks: each worker increments every 16-byte counter record many times,
 * locking only that record (an OFD lock), so workers touching different
 * records never wait for each other. The parent checks no update was lost.
 *
 * ```sh
 * deno run --allow-ffi --allow-read --allow-write --allow-run examples/shared_records.ts
 * ```
 *
 * @module
 */
import { type LockFile, openLockFile } from "../mod.ts";

const RECORD = 16;
const RECORDS = 4;
const enc = new TextEncoder();
const dec = new TextDecoder();

function readCounter(file: LockFile, i: number): number {
  const buf = new Uint8Array(RECORD);
  const n = file.readAt(buf, i * RECORD);
  return n === 0 ? 0 : Number(dec.decode(buf.subarray(0, n)).trim() || "0");
}

async function worker(path: string, rounds: number): Promise<void> {
  using file = openLockFile(path);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < RECORDS; i++) {
      using _lock = await file.lock({ start: i * RECORD, length: RECORD, timeout: 10000 });
      const next = readCounter(file, i) + 1;
      file.writeAt(enc.encode(String(next).padEnd(RECORD - 1) + "\n"), i * RECORD);
    }
  }
}

if (Deno.args[0] === "worker") {
  await worker(Deno.args[1], Number(Deno.args[2]));
} else {
  const workers = Number(Deno.args[0] ?? 4);
  const rounds = Number(Deno.args[1] ?? 50);
  const dir = await Deno.makeTempDir({ prefix: "ipckit-records-" });
  const path = `${dir}/records`;
  try {
    openLockFile(path, { create: true }).close(); // create it, mode 0600
    const children = Array.from({ length: workers }, () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL(import.meta.url).pathname, "worker", path, String(rounds)],
      }).spawn());
    for (const c of children) {
      const s = await c.status;
      if (!s.success) throw new Error(`worker exited ${s.code}`);
    }
    using file = openLockFile(path);
    const counts = Array.from({ length: RECORDS }, (_, i) => readCounter(file, i));
    console.log(`records: ${counts.join(" ")} (expected ${workers * rounds} each)`);
    if (counts.some((c) => c !== workers * rounds)) Deno.exit(1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
