// Changes process-wide state (a signal listener), so it has its own file.
import { equal } from "node:assert/strict";
import { createSysvMessageQueue, createSysvSemaphoreSet } from "../mod.ts";
import { runPeer, sysvTest } from "./_sysv.ts";

const dec = new TextDecoder();

/** Sends SIGWINCH to this process every millisecond for `ms`. */
function storm(ms: number): Promise<Deno.CommandOutput> {
  return new Deno.Command("sh", {
    args: [
      "-c",
      `end=$(($(date +%s%N) + ${ms}000000)); while [ $(date +%s%N) -lt $end ]; do kill -WINCH ${Deno.pid}; done`,
    ],
  }).output();
}

Deno.test(
  "SysV waits survive a storm of signals handled by Deno (EINTR is retried)",
  sysvTest(async (t) => {
    let seen = 0;
    const onSignal = () => seen++;
    Deno.addSignalListener("SIGWINCH", onSignal);
    try {
      using sem = createSysvSemaphoreSet({ values: [0], removeOnClose: true });
      t.add("sem", sem.id);
      using q = createSysvMessageQueue({ removeOnClose: true });
      t.add("msg", q.id);
      const signals = storm(600);
      const acquired = sem.wait(0, { timeout: 5000 });
      const received = q.receive({ type: 5, timeout: 5000 });
      await new Promise((r) => setTimeout(r, 300));
      equal((await runPeer(["sem-post", String(sem.id), "0"])).code, 0);
      equal((await runPeer(["msg-send", String(q.id), "5", "through the storm"])).code, 0);
      await acquired;
      equal(sem.value(0), 0);
      sem.post(0);
      equal(dec.decode((await received).bytes), "through the storm");
      await signals;
      equal(seen > 0, true, "signals were delivered");
    } finally {
      Deno.removeSignalListener("SIGWINCH", onSignal);
    }
  }),
);
