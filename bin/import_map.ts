/**
 * Prints the import-map entries that let another project import this
 * checkout by its package names (`@ipckit/ipckit`, `@ipckit/ipckit/mq`, ...):
 *
 * ```sh
 * deno task import-map            # absolute paths
 * deno task import-map ../my-app  # paths relative to ../my-app
 * ```
 *
 * Paste the result into the other project's `deno.json`.
 *
 * @module
 */
import { relative, resolve } from "node:path";
import denoJson from "../deno.json" with { type: "json" };

const root = new URL("..", import.meta.url).pathname;
// `deno task` runs in the checkout; INIT_CWD is where the user typed it.
const cwd = Deno.env.get("INIT_CWD") ?? Deno.cwd();
const base = Deno.args[0] ? resolve(cwd, Deno.args[0]) : undefined;
const imports: Record<string, string> = {};
for (const [sub, file] of Object.entries(denoJson.exports)) {
  const target = resolve(root, file);
  let spec = base ? relative(base, target) : target;
  if (base && !spec.startsWith(".")) spec = `./${spec}`;
  imports[sub === "." ? denoJson.name : `${denoJson.name}${sub.slice(1)}`] = spec;
}
console.log(JSON.stringify({ imports }, null, 2));
