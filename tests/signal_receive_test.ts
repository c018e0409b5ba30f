// Changes process-wide state (installs Deno signal listeners in this test
// process): kept in its own file.
import { deepEqual, equal, rejects } from "node:assert/strict";
import { IpcError, receiveSignals, sendSignal } from "../mod.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function isIpc(code: string) {
  return (e: unknown) => e instanceof IpcError && e.code === code;
}

Deno.test(
  "receiveSignals() in listener mode gets SIGUSR2 from kill(1), without siginfo",
  opts,
  async () => {
    using signals = receiveSignals(["SIGUSR2"]);
    equal(signals.mode, "listener");
    const kill = new Deno.Command("kill", { args: ["-s", "USR2", String(Deno.pid)] }).output();
    const got = await signals.receive({ timeout: 5000 });
    await kill;
    deepEqual(got, { signal: "SIGUSR2", number: 12 });
  },
);

Deno.test(
  "receive() times out, and tryReceive() returns null when nothing came",
  opts,
  async () => {
    using signals = receiveSignals(["SIGUSR2"]);
    equal(signals.tryReceive(), null);
    await rejects(signals.receive({ timeout: 100 }), isIpc("ETIMEDOUT"));
    sendSignal(Deno.pid, "SIGUSR2");
    await new Promise((r) => setTimeout(r, 100));
    deepEqual(signals.tryReceive(), { signal: "SIGUSR2", number: 12 });
  },
);

Deno.test("close() rejects a pending receive with EBADF", opts, async () => {
  const signals = receiveSignals(["SIGUSR2"]);
  const pending = signals.receive();
  signals.close();
  signals.close();
  await rejects(pending, isIpc("EBADF"));
  await rejects(signals.receive(), isIpc("EBADF"));
});

Deno.test("the async iterator yields each signal and ends on close()", opts, async () => {
  const signals = receiveSignals(["SIGHUP", "SIGUSR2"]);
  const seen: string[] = [];
  const loop = (async () => {
    for await (const s of signals) {
      seen.push(s.signal);
      if (seen.length === 2) signals.close();
    }
  })();
  sendSignal(Deno.pid, "SIGHUP");
  await new Promise((r) => setTimeout(r, 50));
  sendSignal(Deno.pid, "SIGUSR2");
  await loop;
  deepEqual(seen, ["SIGHUP", "SIGUSR2"]);
});

Deno.test("two receivers both see a signal, and each sees it once", opts, async () => {
  using a = receiveSignals(["SIGUSR2"]);
  using b = receiveSignals(["SIGUSR2"]);
  sendSignal(Deno.pid, "SIGUSR2");
  equal((await a.receive({ timeout: 2000 })).signal, "SIGUSR2");
  equal((await b.receive({ timeout: 2000 })).signal, "SIGUSR2");
  equal(a.tryReceive(), null);
});
