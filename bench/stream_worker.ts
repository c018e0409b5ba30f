/**
 * ipckit side of the streaming benchmark (bench/c/stream.c is the C side):
 * COUNT messages of SIZE bytes from a child Deno process to this one, with
 * no allocation per message (one reused buffer on each side). Both ends
 * drain what is ready with the `try*` calls and await the waiting form
 * (`writeAll`/`send`, `read`/`receiveInto`) only when they would block: the
 * way to stream with ipckit. Byte streams are read 64 KiB at a time
 * (whatever is ready). Prints MiB/s, timed from when the first quarter of the
 * messages has arrived (start-up and JIT warm-up are not counted; the C
 * side does the same).
 *
 *   stream_worker.ts pipe|socket|mq|sysv SIZE COUNT
 *
 * @module
 */
import {
  createMessageQueue,
  createPipe,
  createSocketPair,
  createSysvMessageQueue,
  type Descriptor,
  FdHandle,
  openMessageQueue,
  openSysvMessageQueue,
  UnixSocket,
  withInheritedFds,
} from "../mod.ts";

const [mech, sizeText, countText, role, ref] = Deno.args;
const size = Number(sizeText);
const count = Number(countText);
const msg = new Uint8Array(size);

function producer(args: string[], inherit: Descriptor[] = []): Deno.ChildProcess {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--no-check",
      import.meta.filename!,
      mech,
      sizeText,
      countText,
      ...args,
    ],
  });
  return withInheritedFds(inherit, () => cmd.spawn());
}

/** Messages received before the clock starts (as in bench/c/stream.c). */
const warm = Math.floor(count / 4);

/** Receives byte-stream data until `count * size` bytes arrived; returns MiB/s. */
async function drainBytes(reader: FdHandle): Promise<number> {
  const buf = new Uint8Array(65536); // as bench/c/stream.c: 64 KiB per read, whatever the size
  const total = size * count;
  let got = 0;
  let first = -1;
  let t0 = 0;
  while (got < total) {
    const n = reader.tryRead(buf) ?? await reader.read(buf);
    if (!n) throw new Error(`stream ended after ${got} of ${total} bytes`);
    got += n;
    if (first < 0 && got >= warm * size) (first = got, t0 = performance.now());
  }
  return (total - first) / ((performance.now() - t0) / 1000) / 2 ** 20;
}

/** Receives `count` messages (`tryReceive` first, else `receive`); returns MiB/s after the warm-up. */
async function drainMessages(
  tryReceive: () => unknown,
  receive: () => Promise<unknown>,
  onFirst = () => {},
): Promise<number> {
  await receive();
  onFirst();
  for (let i = 1; i <= warm; i++) tryReceive() ?? await receive();
  const t0 = performance.now();
  for (let i = warm + 1; i < count; i++) tryReceive() ?? await receive();
  return size * (count - 1 - warm) / ((performance.now() - t0) / 1000) / 2 ** 20;
}

if (role === "produce") {
  if (mech === "pipe" || mech === "socket") {
    using w = mech === "pipe" ? new FdHandle(Number(ref)) : new UnixSocket(Number(ref));
    for (let i = 0; i < count; i++) {
      const n = w.tryWrite(msg) ?? 0;
      if (n < size) await w.writeAll(msg.subarray(n));
    }
  } else if (mech === "mq") {
    using q = openMessageQueue(ref);
    for (let i = 0; i < count; i++) q.trySend(msg) ?? await q.send(msg);
  } else {
    using q = openSysvMessageQueue({ id: Number(ref) });
    const type = { type: 1 };
    for (let i = 0; i < count; i++) q.trySend(msg, type) ?? await q.send(msg, type);
  }
} else {
  let mibs: number;
  if (mech === "pipe" || mech === "socket") {
    const [r, w] = mech === "pipe"
      ? (({ reader, writer }) => [reader, writer])(createPipe())
      : createSocketPair("stream");
    const child = producer(["produce", String(w.fd)], [w]);
    w.close();
    try {
      mibs = await drainBytes(r);
    } finally {
      r.close();
    }
    await child.status;
  } else if (mech === "mq") {
    const name = `/ipckit-bench-stream-${Deno.pid}`;
    using q = createMessageQueue(name, { maxMessages: 10, messageSize: size });
    const child = producer(["produce", name]);
    const buf = new Uint8Array(size);
    let removed = false;
    const remove = () => {
      if (!removed) q.remove();
      removed = true;
    };
    try {
      // The child has opened the queue once its first message is here.
      mibs = await drainMessages(() => q.tryReceiveInto(buf), () => q.receiveInto(buf), remove);
    } finally {
      remove();
    }
    await child.status;
  } else if (mech === "sysv") {
    using q = createSysvMessageQueue({ removeOnClose: true });
    const child = producer(["produce", String(q.id)]);
    const buf = new Uint8Array(size);
    mibs = await drainMessages(() => q.tryReceiveInto(buf), () => q.receiveInto(buf));
    await child.status;
  } else {
    throw new Error(`unknown mechanism ${mech}`);
  }
  console.log(mibs.toFixed(3));
}
