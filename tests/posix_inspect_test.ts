import { equal, throws } from "node:assert/strict";
import { createSemaphore, IpcError, listingNotes, listIpcObjects } from "../mod.ts";
import { semValue } from "../lib/posix_inspect.ts";
import { uniqueName } from "./_helpers.ts";

Deno.test("semValue() reads what sem_getvalue reports, from the file (glibc's sem_t layout)", async () => {
  const name = "/" + uniqueName("semv");
  using sem = createSemaphore(name, { value: 7 });
  try {
    equal(semValue(name), sem.value());
    sem.post();
    equal(semValue(name), 8);
    await sem.wait();
    await sem.wait();
    equal(semValue(name), sem.value());
  } finally {
    sem.remove();
  }
});

Deno.test("ipckit ls survives a semaphore file its owner truncated (no SIGBUS)", async () => {
  const name = uniqueName("trunc");
  Deno.writeFileSync(`/dev/shm/sem.${name}`, new Uint8Array(0), { mode: 0o600 });
  try {
    equal(semValue(`/${name}`), undefined);
    const cli = new URL("../lib/cli/main.ts", import.meta.url).pathname;
    const flags = ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env", "--allow-run"];
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-check", ...flags, cli, "ls", "--json", "--kind", "posix-sem"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.signal, null, "killed by a signal");
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    Deno.removeSync(`/dev/shm/sem.${name}`);
  }
});

Deno.test("listing functions refuse options that are not an object with EINVAL", () => {
  // listingNotes(null) was a TypeError (found by the fuzz test).
  for (const bad of [null, 1, "kind", [1]]) {
    for (const call of [listingNotes, listIpcObjects]) {
      throws(
        () => call(bad as never),
        (e) =>
          e instanceof IpcError && e.code === "EINVAL" &&
          /options must be an object/.test(e.message),
        `${call.name}(${JSON.stringify(bad)})`,
      );
    }
  }
});
