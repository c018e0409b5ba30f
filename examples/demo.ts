/**
 * `deno task demo`: a tour of ipckit, each step between real processes.
 *
 * 1. A pipe: a shell child writes into a pipe end it inherited.
 * 2. A FIFO: the classic sequence-number server with client processes.
 * 3. Waiting never blocks the event loop: a timer keeps ticking during a wait.
 * 4. Signals: `sigqueue` carries a value to `ipckit signal wait` in another process.
 * 5. Unix sockets: an open file passed to a worker that cannot open it (SCM_RIGHTS).
 * 6. Locks: processes update records of one file under byte-range locks.
 * 7. System V: a reader/writer lock that survives a holder killed with SIGKILL.
 * 8. POSIX message queue: a work queue feeding three worker processes.
 * 9. POSIX shared memory and semaphores: a bounded buffer between processes.
 */
import { createPipe, sendSignal, withInheritedFds } from "../mod.ts";

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

step("signals: sigqueue() carries a value to a process waiting with `ipckit signal wait`");
{
  const cli = new URL("../lib/cli/main.ts", import.meta.url).pathname;
  const waiter = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "signal", "wait", "SIGRTMIN+1", "--json", "--timeout", "20000"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // It says on stderr once the signal is blocked in all its threads.
  const errLines = waiter.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("waiting for")) {
    const { value, done } = await errLines.read();
    if (done) break;
    said += value;
  }
  sendSignal(waiter.pid, "SIGRTMIN+1", { value: 42 });
  const out = await new Response(waiter.stdout).text();
  await waiter.status;
  errLines.cancel();
  const got = JSON.parse(out.trim());
  console.log(
    `waiter got ${got.signal} from pid ${got.pid} (we are ${Deno.pid}) with value ${got.value}`,
  );
}

async function runExample(name: string): Promise<void> {
  const script = new URL(`./${name}`, import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    stdout: "piped",
  })
    .output();
  console.log(dec.decode(out.stdout).trimEnd().split("\n").map((l) => `  ${l}`).join("\n"));
  if (!out.success) throw new Error(`${name} exited ${out.code}`);
}

step("Unix sockets: a helper passes an open file to a worker that cannot open it");
await runExample("sock_fd_helper.ts");

step("locks: worker processes update one file's records under byte-range locks");
await runExample("shared_records.ts");

step("System V: a semaphore-set reader/writer lock survives a holder killed with SIGKILL");
await runExample("sysv_rwlock.ts");

step("POSIX message queue: a work queue feeding three worker processes");
await runExample("posix_work_queue.ts");

step("POSIX shared memory + semaphores: a bounded buffer between a producer and a consumer");
await runExample("posix_bounded_buffer.ts");
