/**
 * Runs the doc examples (`deno test --allow-all --doc lib/ mod.ts`) with
 * `TMPDIR` set to a directory of their own, removed afterwards. The examples
 * make temporary directories (`Deno.makeTempDir()`) for their lock files,
 * FIFOs and records and, being short examples, do not remove them: every run
 * of the suite used to leave a dozen directories in /tmp. Extra arguments go
 * to `deno test`; the exit code is `deno test`'s.
 *
 *   deno run --allow-all tests/doc_tests.ts [DENO TEST ARGS...]
 *
 * @module
 */
const tmp = Deno.makeTempDirSync({ prefix: "ipckit-doc-tests-" });
let code = 1;
try {
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", "--doc", "lib/", "mod.ts", ...Deno.args],
    env: { TMPDIR: tmp },
    stdin: "null",
  }).spawn().status;
  code = status.code;
} finally {
  Deno.removeSync(tmp, { recursive: true });
}
Deno.exit(code);
