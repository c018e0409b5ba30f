/**
 * Graceful shutdown: the first SIGINT or SIGTERM runs every registered
 * cleanup (closing ipckit handles, unlinking what the script created), then
 * exits with 130 (SIGINT) or 143 (SIGTERM); a second signal exits at once,
 * for a cleanup that hangs.
 *
 * Listeners are installed with `Deno.addSignalListener` (never through FFI)
 * when the first cleanup is registered and removed when the last one is
 * disposed, so a script with nothing to clean up keeps Deno's default
 * behaviour. Objects still leak on SIGKILL: nothing runs then.
 *
 * @example
 * ```ts
 * import { createFifo, onShutdown, removeFifo } from "@ipckit/ipckit";
 * const path = (await Deno.makeTempDir()) + "/fifo";
 * createFifo(path);
 * using _cleanup = onShutdown(() => removeFifo(path));
 * // ... on Ctrl-C the FIFO is removed and the script exits with 130.
 * ```
 *
 * @module
 */
import { invalidArgument } from "./_errors.ts";

type Cleanup = () => unknown;

const SIGNALS = [["SIGINT", 130], ["SIGTERM", 143]] as const;

const cleanups = new Set<{ fn: Cleanup }>();
const handlers: [Deno.Signal, () => void][] = [];
let stopping = false;

function install(): void {
  if (handlers.length) return;
  for (const [name, code] of SIGNALS) {
    const h = () => void onSignal(code);
    Deno.addSignalListener(name, h);
    handlers.push([name, h]);
  }
}

function uninstall(): void {
  if (stopping) return;
  for (const [name, h] of handlers.splice(0)) Deno.removeSignalListener(name, h);
}

async function onSignal(code: number): Promise<void> {
  if (stopping) Deno.exit(code); // second signal: at once
  stopping = true;
  await runCleanups();
  Deno.exit(code);
}

/**
 * Runs every registered cleanup now, last registered first, each once,
 * reporting (not throwing) their errors on stderr. The shutdown handler calls
 * it; call it yourself to clean up on a normal exit path.
 *
 * @example
 * ```ts
 * import { onShutdown, runCleanups } from "@ipckit/ipckit";
 * onShutdown(() => console.log("bye"));
 * await runCleanups(); // prints "bye"
 * ```
 */
export async function runCleanups(): Promise<void> {
  const list = [...cleanups].reverse();
  cleanups.clear();
  for (const c of list) {
    try {
      await c.fn();
    } catch (e) {
      console.error(`ipckit: cleanup failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (!stopping) uninstall();
}

/**
 * Registers `cleanup` to run on the first SIGINT/SIGTERM (see the module
 * notes). Disposing the returned handle unregisters it without running it.
 *
 * @example
 * ```ts
 * import { onShutdown } from "@ipckit/ipckit";
 * using _ = onShutdown(async () => {
 *   console.log("flushing before exit");
 * });
 * ```
 */
export function onShutdown(cleanup: () => unknown): Disposable {
  if (typeof cleanup !== "function") {
    throw invalidArgument("onShutdown", undefined, "cleanup must be a function");
  }
  const entry = { fn: cleanup };
  cleanups.add(entry);
  install();
  return {
    [Symbol.dispose]() {
      cleanups.delete(entry);
      if (cleanups.size === 0) uninstall();
    },
  };
}

/**
 * Closes `handle` (anything with `close()` or `[Symbol.dispose]()`, such as
 * every ipckit handle) on shutdown; a shorthand for {@linkcode onShutdown}.
 *
 * @example
 * ```ts
 * import { closeOnShutdown, createPipe } from "@ipckit/ipckit";
 * using pipe = createPipe();
 * using _ = closeOnShutdown(pipe);
 * ```
 */
export function closeOnShutdown(handle: { close(): unknown } | Disposable): Disposable {
  const h = handle as unknown as Record<PropertyKey, unknown> | null;
  if (
    typeof h !== "object" || h === null ||
    (typeof h.close !== "function" && typeof h[Symbol.dispose] !== "function")
  ) {
    throw invalidArgument(
      "onShutdown",
      undefined,
      "handle must have close() or [Symbol.dispose]()",
    );
  }
  return onShutdown(() =>
    "close" in handle ? handle.close() : (handle as Disposable)[Symbol.dispose]()
  );
}
