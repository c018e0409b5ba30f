/**
 * System V test helpers. Other test files run in parallel, so leak checks
 * are about the ids a test made, never about the whole host: each test
 * registers what it creates with a {@linkcode SysvTracker}, which removes
 * leftovers afterwards and fails the test if there were any.
 *
 * @module
 */
import { buildC, command } from "./_helpers.ts";

/** A System V family as `/proc/sysvipc` names it. */
export type Family = "msg" | "sem" | "shm";

/** Ids of every object of `family` on the host now. */
export function liveIds(family: Family): Set<number> {
  const lines = Deno.readTextFileSync(`/proc/sysvipc/${family}`).trim().split("\n").slice(1);
  return new Set(lines.filter((l) => l.trim()).map((l) => Number(l.trim().split(/\s+/)[1])));
}

const flag: Record<Family, string> = { msg: "-q", sem: "-s", shm: "-m" };

/** Every object any tracker in this process registered: swept again at unload. */
const everything: [Family, number][] = [];
globalThis.addEventListener("unload", () => {
  for (const [family, id] of everything) {
    if (liveIds(family).has(id)) {
      new Deno.Command("ipcrm", { args: [flag[family], String(id)], stderr: "null" })
        .outputSync();
    }
  }
});

/** Tracks the objects one test creates and removes any it left behind. */
export class SysvTracker {
  readonly #objects: [Family, number][] = [];

  /** Registers `id`; returns it. */
  add(family: Family, id: number): number {
    this.#objects.push([family, id]);
    everything.push([family, id]);
    return id;
  }

  /** Removes every tracked object still present (with ipcrm); returns what was left. */
  sweep(): string[] {
    const left: string[] = [];
    for (const [family, id] of this.#objects) {
      if (!liveIds(family).has(id)) continue;
      left.push(`${family} ${id}`);
      new Deno.Command("ipcrm", { args: [flag[family], String(id)], stderr: "null" }).outputSync();
    }
    return left;
  }
}

/**
 * Wraps a test body: hands it a tracker, and afterwards removes anything it
 * left and fails if there was something (unless the body already failed).
 */
export function sysvTest(
  fn: (t: SysvTracker) => Promise<void> | void,
): () => Promise<void> {
  return async () => {
    const t = new SysvTracker();
    try {
      await fn(t);
    } catch (e) {
      t.sweep();
      throw e;
    }
    const left = t.sweep();
    if (left.length) throw new Error(`System V objects leaked: ${left.join(", ")}`);
  };
}

let peer: Promise<string> | undefined;

/**
 * The C peer (`tests/fixtures/sysv_peer.c`), built once per process and run
 * once before use: right after gcc, spawning it can fail for a moment with
 * ETXTBSY ("Text file busy") while the suite starts many processes at once.
 */
export function cPeer(): Promise<string> {
  return peer ??= (async () => {
    const bin = await buildC("sysv_peer.c");
    for (let i = 0;; i++) {
      try {
        await new Deno.Command(bin, { args: [], stdout: "null", stderr: "null" }).output();
        return bin;
      } catch (e) {
        if (i > 50 || !String(e).includes("Text file busy")) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
}

/** Runs the C peer to completion; returns its stdout (trimmed) and exit code. */
export async function runPeer(args: string[]): Promise<{ code: number; out: string }> {
  const out = await command(await cPeer(), args, { stdout: "piped", stderr: "inherit" }).output();
  return { code: out.code, out: new TextDecoder().decode(out.stdout).trim() };
}

/** Runs a util-linux tool; returns stdout, throwing on failure. */
export async function tool(name: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(name, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${name} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** `ipcmk` for one kind; returns the new id (as printed). */
export async function ipcmk(args: string[]): Promise<number> {
  const out = await tool("ipcmk", args);
  const m = /id: (\d+)/.exec(out);
  if (!m) throw new Error(`ipcmk printed: ${out}`);
  return Number(m[1]);
}
