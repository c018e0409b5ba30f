/**
 * `docs/vocabulary.md`, enforced: reads `deno doc --json` of every subpath in
 * deno.json's `exports` and checks every exported symbol against the rules.
 * Each test lists every violation at once, so one run shows all the work.
 *
 * @module
 */
import { AssertionError, ok } from "node:assert/strict";

const root = new URL("..", import.meta.url);
const denoJson = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root)));
const exportsMap: Record<string, string> = denoJson.exports;

/**
 * Names that violate a rule today and are being renamed or moved by other
 * families in their own branches (issue 12). Each key is a symbol name
 * (`"unlinkSemaphore"`) or `Owner.member` (`"MessageQueue.unlink"`), matched
 * exactly (a pending class does not hide its members' violations), with the
 * family fixing it. EMPTY THIS AT MERGE TIME: the last test fails while an
 * entry here no longer violates anything, so stale entries cannot linger.
 */
const KNOWN_PENDING: Record<string, string> = {};

/**
 * Names that must never be public: internals of the shared layers. Any name
 * starting with `_` is refused too.
 */
const INTERNAL = new Set([
  "Deadline",
  "Spinner",
  "MAX_PARKED",
  "SLICE_MS",
  "SPIN_MAX_US",
  "SPIN_MIN_US",
  "CallContext",
  "check",
  "sys",
  "trySys",
  "ipcError",
  "pinRegion",
  "regionLive",
  "cmsgLen",
  "cmsgSpace",
  "fdNumbers",
  "trySendMessage",
  "tryReceiveMessage",
  "RawMessage",
  "creatorAlive",
  // The kinds table behind listIpcObjects()/removeIpcObject() and its entries.
  "kinds",
  "posixKinds",
  "sysvKinds",
  "KindProvider",
]);

/**
 * Verbs an exported function may start with: the lifecycle of the table in
 * docs/vocabulary.md (create, open, remove, close; list; listen, bind,
 * connect) and the actions it names (send, receive, wait, post, lock, try,
 * with...).
 */
const VERBS = [
  "create",
  "open",
  "remove",
  "close",
  "list",
  "listen",
  "bind",
  "connect",
  "send",
  "receive",
  "wait",
  "post",
  "lock",
  "try",
  "with",
  "set",
  "map",
  "format",
  "parse",
  "on",
  "run",
  "exec",
  "main",
  "capture",
  "notify",
];

/**
 * Exported functions named after what they return rather than a verb
 * (readers without side effects, as `Deno.memoryUsage()` is). Adding one is a
 * review decision: a function that acts must start with a verb.
 */
const READERS = new Set([
  "blockedInEveryThread",
  "listingNotes",
  "ftok",
  "messageQueueLimits",
  "peerCredentialsOf",
  "pipeCapacity",
  "processGroup",
  "realtimeSignalRange",
  "semaphoreInRegion",
  "semaphoreSize",
  "signalName",
  "signalNumber",
  "singleInstance",
  "sysvIdForKey",
  "sysvLimits",
  "watchdog",
]);

/** Option properties that the vocabulary replaced. */
const RETIRED_OPTIONS: Record<string, string> = {
  trustAnyOwner: 'trust: "any"',
  maxBytes: "queueBytes",
};

// deno-lint-ignore no-explicit-any
type Json = any;

interface Decl {
  kind: string;
  jsDoc?: { doc?: string; tags?: { kind: string }[] };
  def?: Json;
  location?: { filename: string };
}

interface Sym {
  name: string;
  declarations: Decl[];
}

interface DocNode {
  module_doc?: { doc?: string; tags?: { kind: string }[] };
  symbols: Sym[];
}

interface Violation {
  /** The symbol (`"openFifo"`) or member (`"FdHandle.tryRead"`) it is about. */
  key: string;
  message: string;
}

async function denoDoc(files: string[]): Promise<{ ok: boolean; nodes: Record<string, DocNode> }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...files],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) return { ok: false, nodes: {} };
  return { ok: true, nodes: JSON.parse(new TextDecoder().decode(out.stdout)).nodes };
}

/** Every subpath's doc node (by subpath), plus the subpaths that failed to resolve. */
async function loadDocs(): Promise<{ docs: Map<string, DocNode>; broken: string[] }> {
  const entries = Object.entries(exportsMap);
  const files = entries.map(([, f]) => f);
  let { ok: fine, nodes } = await denoDoc(files);
  const broken: string[] = [];
  if (!fine) {
    // Find which subpaths fail, then document the rest.
    nodes = {};
    for (const [sub, file] of entries) {
      const one = await denoDoc([file]);
      if (one.ok) Object.assign(nodes, one.nodes);
      else broken.push(`${sub} -> ${file}`);
    }
  }
  const docs = new Map<string, DocNode>();
  for (const [sub, file] of entries) {
    const url = new URL(file, root).href;
    if (nodes[url]) docs.set(sub, nodes[url]);
    else if (!broken.some((b) => b.startsWith(`${sub} `))) broken.push(`${sub} -> ${file}`);
  }
  return { docs, broken };
}

const { docs, broken } = await loadDocs();

/** Exported symbols, once each (mod.ts re-exports what the subpaths export). */
const symbols = new Map<string, { sym: Sym; where: string }>();
for (const [sub, node] of docs) {
  for (const sym of node.symbols) {
    const exported = sym.declarations.filter((d) => d.kind !== "import");
    if (exported.length === 0) continue;
    if (!symbols.has(sym.name)) {
      const file = exported[0].location?.filename;
      const where = file ? file.replace(root.href, "") : sub;
      symbols.set(sym.name, { sym: { ...sym, declarations: exported }, where });
    }
  }
}

function hasExample(d: Decl): boolean {
  return (d.jsDoc?.tags ?? []).some((t) => t.kind === "example");
}

function hasDoc(d: Decl): boolean {
  return (d.jsDoc?.doc ?? "").trim().length > 0;
}

/** Whether a type (as deno doc renders it) is or contains `null`. */
function includesNull(t: Json): boolean {
  if (!t || typeof t !== "object") return false;
  if (t.kind === "keyword" && t.value === "null") return true;
  if (t.kind === "union") return t.value.some(includesNull);
  return t.kind === "parenthesized" && includesNull(t.value);
}

function includesVoid(t: Json): boolean {
  if (!t || typeof t !== "object") return false;
  if (t.kind === "keyword" && (t.value === "void" || t.value === "undefined")) return true;
  return t.kind === "union" && t.value.some(includesVoid);
}

/** Every function-like member: [key, name, returnType] for functions, class and interface methods. */
function callables(name: string, decls: Decl[]): [string, string, Json][] {
  const out: [string, string, Json][] = [];
  for (const d of decls) {
    if (d.kind === "function") out.push([name, name, d.def?.returnType]);
    if (d.kind === "class") {
      for (const m of d.def?.methods ?? []) {
        if (m.kind === "getter" || m.kind === "setter") continue;
        out.push([`${name}.${m.name}`, m.name, m.functionDef?.returnType]);
      }
    }
    if (d.kind === "interface") {
      for (const m of d.def?.methods ?? []) out.push([`${name}.${m.name}`, m.name, m.returnType]);
    }
  }
  return out;
}

/** Property names of an options interface (`...Options`) or object-literal options alias. */
function optionProperties(name: string, d: Decl): string[] {
  if (!/Options$/.test(name)) return [];
  if (d.kind === "interface") return (d.def?.properties ?? []).map((p: Json) => p.name);
  if (d.kind === "typeAlias" && d.def?.tsType?.kind === "typeLiteral") {
    return (d.def.tsType.value.properties ?? []).map((p: Json) => p.name);
  }
  return [];
}

function collect(): Violation[] {
  const v: Violation[] = [];
  for (const [name, { sym, where }] of symbols) {
    const at = `${name} (${where})`;
    const kinds = new Set(sym.declarations.map((d) => d.kind));
    // Internal names.
    if (name.startsWith("_") || INTERNAL.has(name)) {
      v.push({ key: name, message: `${at} is internal and must not be exported` });
    }
    // Docs: functions and classes need an @example, everything else a doc comment.
    if (kinds.has("function") || kinds.has("class")) {
      if (!sym.declarations.some(hasExample)) {
        v.push({ key: name, message: `${at} has no @example in its JSDoc` });
      }
    } else if (!sym.declarations.some(hasDoc)) {
      v.push({ key: name, message: `${at} has no doc comment` });
    }
    // Function names: a verb from the vocabulary, or a reviewed reader.
    if (
      kinds.has("function") && !READERS.has(name) &&
      !VERBS.some((verb) => name === verb || new RegExp(`^${verb}[A-Z]`).test(name))
    ) {
      v.push({
        key: name,
        message: `${at}: function name does not start with a vocabulary verb (${VERBS.join("/")})`,
      });
    }
    // unlink*/make*, and try* returning null.
    for (const [key, fn, returns] of callables(name, sym.declarations)) {
      if (/^(unlink|make)([A-Z]|$)/.test(fn)) {
        v.push({
          key,
          message: `${key} (${where}): "${fn}" uses a retired verb (create*/remove* instead)`,
        });
      }
      if (/^try[A-Z]/.test(fn)) {
        if (!includesNull(returns)) {
          v.push({ key, message: `${key} (${where}): a try* must return a type including null` });
        } else if (includesVoid(returns)) {
          v.push({
            key,
            message: `${key} (${where}): a try* returns true, not void, when it succeeds`,
          });
        }
      }
    }
    // Retired option names.
    for (const d of sym.declarations) {
      for (const prop of optionProperties(name, d)) {
        if (Object.hasOwn(RETIRED_OPTIONS, prop)) {
          v.push({
            key: `${name}.${prop}`,
            message: `${at}: option "${prop}" was replaced by ${RETIRED_OPTIONS[prop]}`,
          });
        }
      }
    }
  }
  return v;
}

const all = collect();

/** Fails with every problem listed, one per line (deepEqual would truncate the list). */
function none(problems: string[], what: string): void {
  if (problems.length === 0) return;
  throw new AssertionError({
    message: `${problems.length} ${what}:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
  });
}
const pending = (x: Violation) => Object.hasOwn(KNOWN_PENDING, x.key);

Deno.test("every subpath in deno.json's exports resolves and has a module doc", () => {
  const problems = [...broken.map((b) => `${b}: deno doc failed (does the file exist?)`)];
  for (const [sub, node] of docs) {
    if (!(node.module_doc?.doc ?? "").trim()) {
      problems.push(`${sub} -> ${exportsMap[sub]}: no module doc`);
    }
    if (node.symbols.length === 0) problems.push(`${sub} -> ${exportsMap[sub]}: exports nothing`);
  }
  none(problems, "subpath problems");
  ok(docs.has("."), "the root export is documented");
});

Deno.test("every export follows docs/vocabulary.md", () => {
  none(all.filter((x) => !pending(x)).map((x) => x.message), "vocabulary violations");
});

Deno.test("KNOWN_PENDING lists only names that still violate a rule", () => {
  const stale = Object.keys(KNOWN_PENDING).filter((k) => !all.some((x) => x.key === k));
  none(stale, "KNOWN_PENDING entries are fixed now: remove them");
});
