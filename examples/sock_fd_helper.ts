/**
 * A privileged helper passes an open file to a worker that cannot open it.
 *
 * The helper (this script) creates a secret file readable only by its owner
 * and listens on a Unix socket. It starts a worker (this script with
 * `worker`), dropped to the `nobody` user when run as root. The worker asks
 * for the file; the helper checks who is asking with SO_PEERCRED, opens the
 * file itself and sends the descriptor with SCM_RIGHTS. The worker reads
 * through the descriptor a file it could never open by path.
 *
 * Run: deno run --allow-all examples/sock_fd_helper.ts
 */
import { connectUnix, listenUnix, openFile, receiveFds, sendFds } from "../mod.ts";
import { otherUserSupport, stageForNobody } from "./_as_user.ts";

const [role, socketPath, secretPath] = Deno.args;

if (role === "worker") {
  try {
    Deno.readTextFileSync(secretPath);
    console.log("worker: could open the file by path (not running as root?)");
  } catch (e) {
    console.log(`worker: cannot open it myself (${(e as Error).name})`);
  }
  using helper = await connectUnix(socketPath, { timeout: 5000 });
  await helper.send(new TextEncoder().encode("please"));
  const [file] = await receiveFds(helper, { timeout: 5000 });
  using f = file;
  console.log(
    `worker: read through the passed descriptor: ${
      new TextDecoder().decode(await f.readAll({ timeout: 5000 })).trim()
    }`,
  );
} else {
  const dir = Deno.makeTempDirSync({ prefix: "ipckit-example-" });
  try {
    Deno.chmodSync(dir, 0o755); // the worker must reach the socket
    const secret = `${dir}/secret.txt`;
    Deno.writeTextFileSync(secret, "the secret is 42\n", { mode: 0o600 });
    Deno.chmodSync(secret, 0o600);
    const sockPath = `${dir}/helper.sock`;
    using server = listenUnix(sockPath, { mode: 0o666 });
    // As root, the worker runs as nobody, from a stage nobody can read: the
    // checkout may sit in a 0700 home, and npx keeps Deno under root's home.
    using stage = otherUserSupport().ok
      ? stageForNobody(["examples/sock_fd_helper.ts"])
      : undefined;
    const args = ["run", "--allow-all", "--no-check"];
    const argv = stage
      ? stage.command([...args, stage.path("examples/sock_fd_helper.ts"), "worker"])
      : [Deno.execPath(), ...args, new URL(import.meta.url).pathname, "worker"];
    const worker = new Deno.Command(argv[0], {
      args: [...argv.slice(1), sockPath, secret],
      env: stage?.env ?? { NO_COLOR: "1" },
      cwd: stage?.dir,
    }).spawn();
    // A worker that dies before it connects is reported at once, not after the timeout.
    using conn = await Promise.race([
      server.accept({ timeout: 10000 }),
      worker.status.then((s): never => {
        throw new Error(`the worker exited with ${s.code} before connecting`);
      }),
    ]);
    const who = conn.peerCredentials();
    console.log(`helper: request from pid ${who.pid} uid ${who.uid}`);
    const request = await conn.receive({ timeout: 5000 });
    if (request.text() === "please" && who.pid === worker.pid) {
      using file = openFile(secret); // opened with the helper's rights
      await sendFds(conn, [file]);
      console.log("helper: descriptor sent");
    }
    const status = await worker.status;
    if (!status.success) throw new Error(`worker exited with ${status.code}`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
