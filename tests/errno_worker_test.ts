import { deepEqual } from "node:assert/strict";

Deno.test("errno is read per thread: a Worker and the main thread each see their own", async () => {
  const src = `
    import { check } from "${new URL("../lib/_errors.ts", import.meta.url).href}";
    import { libc } from "${new URL("../ffi/libc.ts", import.meta.url).href}";
    const codes = [];
    for (let i = 0; i < 500; i++) {
      try { check(libc().close(-1), "close"); } catch (e) { codes.push(e.code); }
    }
    self.postMessage([...new Set(codes)]);
  `;
  const url = URL.createObjectURL(new Blob([src], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const fromWorker = new Promise((r) => (worker.onmessage = (e) => r(e.data)));
  const { check } = await import("../lib/_errors.ts");
  const { cstr, libc } = await import("../ffi/libc.ts");
  const main: string[] = [];
  for (let i = 0; i < 500; i++) {
    try {
      check(libc().open(cstr("/no/such/ipckit/path"), 0, 0), "open");
    } catch (e) {
      main.push((e as { code: string }).code);
    }
  }
  deepEqual(await fromWorker, ["EBADF"]);
  deepEqual([...new Set(main)], ["ENOENT"]);
  worker.terminate();
  URL.revokeObjectURL(url);
});
