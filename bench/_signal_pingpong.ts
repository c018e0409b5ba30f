// Signal round trips between two Deno processes.
//   ipckit: both in signalfd mode (start this under `env --block-signal=USR2`;
//           the pong child inherits the mask), replies go to the sender's pid.
//   deno:   Deno.addSignalListener + Deno.kill, peer pids passed explicitly.
// _signal_pingpong.ts ipckit|deno N  -> µs per round trip
// _signal_pingpong.ts pong-ipckit|pong-deno N PINGPID
import { receiveSignals, sendSignal } from "../mod.ts";

const [mode, nText, peer] = Deno.args;
const n = Number(nText);

if (mode === "pong-ipckit") {
  using sigs = receiveSignals(["SIGUSR2"], { mode: "signalfd" });
  console.log("ready");
  for (let i = 0; i < n; i++) sendSignal((await sigs.receive()).pid!, "SIGUSR2");
} else if (mode === "pong-deno") {
  let left = n;
  const done = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGUSR2", () => {
    Deno.kill(Number(peer), "SIGUSR2");
    if (--left === 0) done.resolve();
  });
  console.log("ready");
  await done.promise;
  Deno.exit(0);
} else {
  const ipckit = mode === "ipckit";
  const sigs = ipckit ? receiveSignals(["SIGUSR2"], { mode: "signalfd" }) : null;
  let waiter: PromiseWithResolvers<void> | null = null;
  if (!ipckit) Deno.addSignalListener("SIGUSR2", () => waiter?.resolve());
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-check",
      new URL(import.meta.url).pathname,
      `pong-${mode}`,
      String(n + 200),
      String(Deno.pid),
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read(); // "ready"
  const once = async () => {
    if (ipckit) {
      sendSignal(child.pid, "SIGUSR2");
      await sigs!.receive();
    } else {
      waiter = Promise.withResolvers<void>();
      Deno.kill(child.pid, "SIGUSR2");
      await waiter.promise;
    }
  };
  for (let i = 0; i < 200; i++) await once();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await once();
  const per = (performance.now() - t0) * 1000 / n;
  await child.status;
  await reader.cancel().catch(() => {});
  console.log(per.toFixed(3));
  Deno.exit(0);
}
