/**
 * `deno task demo`: a tour of ipckit, each step between real processes.
 *
 * 1. A pipe: a shell child writes into a pipe end it inherited.
 * 2. A FIFO: the classic sequence-number server with client processes.
 * 3. Waiting never blocks the event loop: a timer keeps ticking during a wait.
 */
import { createPipe, withInheritedFds } from "../mod.ts";

const dec = new TextDecoder();
const step = (title: string) => console.log(`\n== ${title}`);

step("pipe: a child process writes into an inherited pipe end");
{
  using pipe = createPipe();
  const child = withInheritedFds([pipe.writer], () =>
    new Deno.Command("bash", {
      args: ["-c", `for i in 1 2 3; do echo "line $i from pid $$" >&${pipe.writer.fd}; done`],
    }).spawn());
  pipe.writer.close();
  console.log(dec.decode(await pipe.reader.readAll({ timeout: 10_000 })).trimEnd());
  await child.status;
}

step("FIFO: a sequence-number server and four client processes");
{
  const script = new URL("./fifo_sequence_server.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-ffi", "--allow-read", "--allow-write", "--allow-run", script],
    stdout: "piped",
  }).output();
  console.log(
    dec.decode(out.stdout).split("\n").filter((l) => !l.startsWith("server:")).join("\n").trimEnd(),
  );
}

step("waiting: a read waits 300 ms for a child while a timer keeps ticking");
{
  using pipe = createPipe();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const child = withInheritedFds(
    [pipe.writer],
    () =>
      new Deno.Command("bash", { args: ["-c", `sleep 0.3; echo done >&${pipe.writer.fd}`] })
        .spawn(),
  );
  pipe.writer.close();
  const text = dec.decode(await pipe.reader.readAll({ timeout: 10_000 })).trim();
  clearInterval(timer);
  await child.status;
  console.log(`child said "${text}"; the timer ticked ${ticks} times meanwhile`);
}
