/**
 * The suite's leak check, run by `deno task test` before and after the tests:
 *
 * - `--before` records every IPC object and `ipckit-test-*` temp entry on
 *   the host (other users' included) in `.cache/leak-before.json`;
 * - `--after` fails if anything is there that was not before, whoever made
 *   it: the suite's objects must be gone even when tests fail, and objects
 *   that were already on the host are never blamed.
 *
 * Objects are listed with ipckit's own lister, which also sees message queues
 * when /dev/mqueue is not mounted (through a private mqueue mount, as root).
 */
import { listingNotes, listIpcObjects } from "../mod.ts";

const snapshotPath = new URL("../.cache/leak-before.json", import.meta.url);

function inventory(): string[] {
  const seen: string[] = [];
  for (const o of listIpcObjects()) {
    seen.push(
      o.kind.startsWith("sysv-")
        ? `${o.kind} id ${o.id} key ${o.key} (${o.owner})`
        : `${o.kind} ${o.name} (${o.owner})`,
    );
  }
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  for (const e of Deno.readDirSync(tmp)) {
    if (e.name.startsWith("ipckit-test-")) seen.push(`${tmp}/${e.name}`);
  }
  return seen.sort();
}

if (Deno.args[0] === "--before") {
  Deno.mkdirSync(new URL("../.cache/", import.meta.url), { recursive: true });
  Deno.writeTextFileSync(snapshotPath, JSON.stringify(inventory()));
  Deno.exit(0);
}

let before: Set<string>;
try {
  before = new Set(JSON.parse(Deno.readTextFileSync(snapshotPath)));
} catch {
  console.error("leak check: no snapshot (run with --before first); every object counts");
  before = new Set();
}
const left = inventory().filter((o) => !before.has(o));
for (const note of listingNotes()) console.error(`leak check: note: ${note}`);
if (left.length) {
  console.error(`IPC objects left behind by the test suite:\n  ${left.join("\n  ")}`);
  Deno.exit(1);
}
console.log(`leak check: nothing new left behind (${before.size} objects were there before)`);
