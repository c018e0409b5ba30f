/**
 * A work queue feeding N worker processes through a POSIX message queue.
 *
 * The parent creates a job queue and a result queue, starts N workers (this
 * same script with `worker`), sends jobs, then one "stop" per worker, and
 * collects the results. Run:
 *
 * ```sh
 * deno run --allow-all examples/posix_work_queue.ts [WORKERS] [JOBS]
 * ```
 */
import { createMessageQueue, openMessageQueue, removeMessageQueue } from "../mod.ts";

if (Deno.args[0] === "worker") {
  const [, jobsName, resultsName] = Deno.args;
  using jobs = openMessageQueue(jobsName, { access: "read" });
  using results = openMessageQueue(resultsName, { access: "write" });
  for await (const m of jobs) {
    if (m.text() === "stop") break;
    const n = Number(m.text());
    await new Promise((r) => setTimeout(r, 10)); // pretend to work
    await results.send(JSON.stringify({ n, square: n * n, worker: Deno.pid }));
  }
} else {
  const workers = Number(Deno.args[0] ?? 3);
  const count = Number(Deno.args[1] ?? 20);
  const tag = `${Deno.pid}`;
  const jobsName = `/ipckit-example-jobs-${tag}`;
  const resultsName = `/ipckit-example-results-${tag}`;
  using jobs = createMessageQueue(jobsName, { maxMessages: 8, messageSize: 64 });
  using results = createMessageQueue(resultsName, { maxMessages: 8, messageSize: 256 });
  try {
    const children = Array.from({ length: workers }, () =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--no-check",
          import.meta.filename!,
          "worker",
          jobsName,
          resultsName,
        ],
      }).spawn());
    // Send and collect concurrently: both queues are small, so neither side may run ahead.
    const sending = (async () => {
      for (let i = 1; i <= count; i++) await jobs.send(String(i), { timeout: 10000 });
      for (let i = 0; i < workers; i++) await jobs.send("stop", { priority: 0, timeout: 10000 });
    })();
    let sum = 0;
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const r = JSON.parse((await results.receive({ timeout: 10000 })).text());
      sum += r.square;
      seen.add(r.worker);
    }
    await sending;
    for (const c of children) await c.status;
    console.log(`${count} jobs done by ${seen.size} workers; sum of squares ${sum}`);
  } finally {
    removeMessageQueue(jobsName);
    removeMessageQueue(resultsName);
  }
}
