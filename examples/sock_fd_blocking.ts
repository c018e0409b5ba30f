/**
 * Handing a received descriptor to a program that does blocking I/O.
 *
 * Descriptors ipckit receives arrive non-blocking: an `FdHandle` sets
 * `O_NONBLOCK` so no read can stall the event loop. The flag belongs to the
 * open file description, which every copy shares, including the one a child
 * inherits. A blocking program (cat, a C program, Python) then gets EAGAIN
 * ("Resource temporarily unavailable") when nothing is there yet. Switch the
 * descriptor back with `handle.nonBlocking = false` before handing it over.
 *
 * Run: deno run --allow-ffi --allow-read --allow-run examples/sock_fd_blocking.ts
 */
import { createPipe, createSocketPair, receiveFds, sendFds, withInheritedFds } from "../mod.ts";

async function demo(blocking: boolean): Promise<string> {
  const [a, b] = createSocketPair();
  using pipe = createPipe();
  await sendFds(a, [pipe.reader]); // e.g. from another process
  const [reader] = await receiveFds(b, { timeout: 1000 });
  a.close();
  b.close();
  pipe.reader.close();
  if (blocking) reader.nonBlocking = false; // what a blocking program expects
  // cat reads the inherited descriptor itself (not a reopen); nothing is written yet.
  const child = withInheritedFds([reader], () =>
    new Deno.Command("bash", {
      args: ["-c", `exec cat <&${reader.fd}`],
      stdout: "piped",
      stderr: "piped",
    }).spawn());
  reader.close();
  setTimeout(async () => {
    await pipe.writer.writeAll(new TextEncoder().encode("late data\n")).catch(() => {});
    pipe.writer.close();
  }, 200);
  const out = await child.output();
  const text = new TextDecoder().decode(out.code === 0 ? out.stdout : out.stderr).trim();
  return `exit ${out.code}: ${text}`;
}

console.log(`left non-blocking: cat says ${await demo(false)}`);
console.log(`nonBlocking = false: cat says ${await demo(true)}`);
