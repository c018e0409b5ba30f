/**
 * Helpers shared by the issue-11 safety tests of the POSIX mechanisms
 * (`posix_safety_test.ts`, `shm_safety_test.ts`).
 *
 * @module
 */
import { equal, ok } from "node:assert/strict";
import { createMessageQueue, IpcError, type MessageQueue } from "../mod.ts";
import { uniqueName } from "./_helpers.ts";

/** The child fixture for scenarios that could kill the process. */
export const child = new URL("./fixtures/posix_safety_child.ts", import.meta.url).pathname;
/** The `ipc` task's permissions (never --allow-all). */
export const IPC_FLAGS = ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env"];

export function code(e: unknown): string {
  ok(e instanceof IpcError, `not an IpcError: ${e}`);
  return (e as IpcError).code;
}

export function isCode(expected: string, syscall?: string) {
  return (e: unknown) => {
    equal(code(e), expected, String(e));
    if (syscall) equal((e as IpcError).syscall, syscall);
    return true;
  };
}

export function tempQueue(size = 16): MessageQueue & Disposable {
  const q = createMessageQueue("/" + uniqueName("mq"), { maxMessages: 4, messageSize: size });
  q.remove();
  return q;
}

export function mapsMention(text: string): boolean {
  return Deno.readTextFileSync("/proc/self/maps").includes(text);
}

export async function runChild(
  args: string[],
  prefix: string[] = [],
  flags: string[] = [],
): Promise<{ code: number; signal: string | null; out: Record<string, unknown>; err: string }> {
  const argv = [...prefix, Deno.execPath(), "run", ...flags, ...IPC_FLAGS, child, ...args];
  const res = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(res.stdout).trim();
  const err = new TextDecoder().decode(res.stderr);
  let out: Record<string, unknown> = {};
  try {
    out = JSON.parse(text.split("\n").pop() || "{}");
  } catch { /* reported through code/signal below */ }
  return { code: res.code, signal: res.signal, out, err };
}

export function unshareSupport(): { ok: true } | { ok: false; reason: string } {
  if (Deno.uid() !== 0) return { ok: false, reason: "needs root to mount a small tmpfs" };
  const r = new Deno.Command("unshare", { args: ["-m", "true"], stderr: "null" }).outputSync();
  return r.success ? { ok: true } : { ok: false, reason: "unshare -m is not permitted here" };
}
