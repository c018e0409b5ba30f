/**
 * Both sides of the pipe ping-pong benchmark for ipckit and Deno.Command
 * pipes, and Deno.Command's side of the streaming benchmark (ipckit's is
 * bench/stream_worker.ts). Each parent mode prints one figure (MiB/s or µs
 * per round trip).
 *
 *   ipckit-pingpong ROUNDS | ipckit-c-pingpong ROUNDS C_BINARY
 *   deno-stream SIZE COUNT | deno-pingpong ROUNDS
 */
import { createPipe, FdHandle, withInheritedFds } from "../mod.ts";

const [mode, arg, ...rest] = Deno.args;
const n = Number(arg);
const self = new URL(import.meta.url).pathname;
const child = (args: string[], opts: Deno.CommandOptions = {}) =>
  new Deno.Command(Deno.execPath(), { args: ["run", "-A", "--no-check", self, ...args], ...opts });

switch (mode) {
  case "ipckit-pingpong":
  case "ipckit-c-pingpong": {
    using there = createPipe();
    using back = createPipe();
    // The echo peer is another ipckit process, or (ipckit-c-pingpong) the C
    // baseline's echo loop, which measures one ipckit side alone.
    const ends = [there.reader, back.writer];
    const c = mode === "ipckit-pingpong"
      ? withInheritedFds(
        ends,
        () => child(["ipckit-echo", arg, String(there.reader.fd), String(back.writer.fd)]).spawn(),
      )
      : withInheritedFds(
        ends,
        () =>
          new Deno.Command(rest[0], {
            args: ["echo", String(there.reader.fd), String(back.writer.fd), String(n + 200)],
          }).spawn(),
        { handOver: true },
      );
    const msg = new Uint8Array(64);
    const buf = new Uint8Array(64);
    const round = async () => {
      await there.writer.writeAll(msg);
      for (let got = 0; got < 64;) got += (await back.reader.read(buf.subarray(got)))!;
    };
    for (let i = 0; i < 200; i++) await round(); // warm-up, excluded
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await round();
    const us = (performance.now() - t0) * 1000 / n;
    there.writer.close();
    await c.status;
    console.log(us.toFixed(3));
    break;
  }
  case "ipckit-echo": {
    using r = new FdHandle(Number(rest[0]));
    using w = new FdHandle(Number(rest[1]));
    const buf = new Uint8Array(64);
    for (let i = 0; i < n + 200; i++) {
      for (let got = 0; got < 64;) got += (await r.read(buf.subarray(got)))!;
      await w.writeAll(buf);
    }
    break;
  }
  case "deno-stream": {
    // COUNT writes of SIZE bytes by the child; the clock starts once the
    // first quarter has arrived (as in bench/c/stream.c and stream_worker.ts).
    const size = n, count = Number(rest[0]);
    const c = child(["deno-writer", arg, rest[0]], { stdout: "piped" }).spawn();
    const warm = Math.floor(count / 4) * size;
    let got = 0;
    let t0 = 0;
    let first = -1;
    for await (const chunk of c.stdout) {
      got += chunk.length;
      if (first < 0 && got >= warm) (t0 = performance.now(), first = got);
    }
    const secs = (performance.now() - t0) / 1000;
    await c.status;
    if (got !== size * count) throw new Error(`got ${got} of ${size * count} bytes`);
    console.log(((got - first) / secs / 1048576).toFixed(3));
    break;
  }
  case "deno-writer": {
    const buf = new Uint8Array(n);
    const w = Deno.stdout.writable.getWriter();
    for (let i = 0; i < Number(rest[0]); i++) await w.write(buf);
    await w.close();
    break;
  }
  case "deno-pingpong": {
    const c = child(["deno-echo", arg], { stdin: "piped", stdout: "piped" }).spawn();
    const w = c.stdin.getWriter();
    const r = c.stdout.getReader({ mode: "byob" });
    const msg = new Uint8Array(64);
    let buf = new Uint8Array(64);
    const round = async () => {
      await w.write(msg);
      let got = 0;
      while (got < 64) {
        const { value } = await r.read(new Uint8Array(buf.buffer, got, 64 - got));
        buf = new Uint8Array(value!.buffer);
        got += value!.length;
      }
    };
    for (let i = 0; i < 200; i++) await round();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await round();
    const us = (performance.now() - t0) * 1000 / n;
    await w.close();
    await c.status;
    console.log(us.toFixed(3));
    break;
  }
  case "deno-echo": {
    const buf = new Uint8Array(64);
    for (let i = 0; i < n + 200; i++) {
      for (let got = 0; got < 64;) got += (await Deno.stdin.read(buf.subarray(got)))!;
      for (let put = 0; put < 64;) put += await Deno.stdout.write(buf.subarray(put));
    }
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
