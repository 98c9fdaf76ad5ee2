import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SSH_KEYS_MOUNT, sshEntry } from "../../packages/agent/src/runtime/ssh-entry.js";
import { clusters, gpus, nodes } from "../../src/db/schema/index.js";
import { currentAssignments } from "../../src/domain/agent/assignments.js";
import { markInstanceRunning } from "../../src/domain/instances/lifecycle.js";
import { describeOneDb, type Harness } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { connectTerminal, eventually, listenWithTerminal } from "../instances/terminal-socket.js";
import { podmanEnv, podmanReady, TEST_IMAGE } from "./podman.js";

/**
 * The web terminal against a real container: the test image's OpenSSH, started with the agent's own entry script and
 * the authorized keys the node's agent is told to write (the customer's and the server's terminal key), on podman.
 * The agent process itself is test/agent/containers.test.ts's subject; here the server's SSH client is.
 */
const ready = podmanReady();
const suite = ready === true ? describeOneDb : (name: string) => describe.skip(`${name} (${ready})`, () => {});

suite("the web terminal in a podman container", (h: () => Harness) => {
  const name = `gpterm${randomBytes(3).toString("hex")}`;
  const dir = mkdtempSync(join(tmpdir(), "gpuplane-term-"));
  const podman = (...args: string[]) => execFileSync("podman", args, { env: podmanEnv(), encoding: "utf8" }).trim();
  let server: Awaited<ReturnType<typeof listenWithTerminal>>;

  beforeAll(async () => {
    server = await listenWithTerminal(h().app);
  });
  afterAll(async () => {
    try {
      podman("rm", "-f", name);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
    await server?.close();
  });

  it("runs echo in the container's shell over SSH, and closes when the instance stops", async () => {
    await h().post("/api/v1/regions", { id: "TERM-CT", name: "Terminal containers" });
    const [cluster] = await h().ctx.db.insert(clusters).values({ name: "term-ct", region: "TERM-CT" }).returning();
    const [n] = await h()
      .ctx.db.insert(nodes)
      .values({ clusterId: cluster.id, hostname: "term-ct-1", ipAddress: "127.0.0.1", totalGpus: 1 })
      .returning();
    await h().ctx.db.insert(gpus).values({ nodeId: n.id, gpuIndex: 0, model: "NVIDIA H100 80GB HBM3" });
    const account = await customer(h());
    const created = await h().post(
      "/api/v1/deployments/clusters",
      {
        cluster_type: "1H100.80S.30V",
        image: "ubuntu-22.04-cuda-12.4-cluster",
        hostname: "ct",
        ssh_key_ids: [account.sshKeyId],
        location: "TERM-CT",
      },
      account.key,
    );
    expect(created.status, created.text).toBe(201);
    const id = created.body.data.id as string;
    const assigned = (await currentAssignments(h().ctx, n.id)).instances.find((i) => i.id === id)!;
    // As the agent's createInstance writes and mounts them.
    writeFileSync(join(dir, "authorized_keys"), `${assigned.ssh_public_keys.join("\n")}\n`, { mode: 0o644 });
    podman(
      ...["run", "-d", "--name", name, "-p", "127.0.0.1::22"],
      ...["-v", `${join(dir, "authorized_keys")}:${SSH_KEYS_MOUNT}:ro`, "--entrypoint", sshEntry.entrypoint],
      TEST_IMAGE,
      ...sshEntry.command,
    );
    const port = Number(podman("port", name, "22/tcp").split(":").at(-1));
    await markInstanceRunning(h().ctx, id, { ipAddress: "127.0.0.1", sshUser: "root", sshPort: port });

    const issued = (await h().post(`/api/v1/instances/${id}/terminal`, undefined, account.key)).body.data;
    // sshd may still be starting: a refused first try closes with 4010, and a new ticket tries again.
    let term = await connectTerminal(server.base, issued.url);
    for (let attempt = 0; attempt < 30; attempt++) {
      const state = await Promise.race([
        term.closed.then(() => "closed"),
        new Promise((r) => setTimeout(r, 3000)).then(() => "open"),
      ]);
      if (state === "open") break;
      await new Promise((r) => setTimeout(r, 1000));
      const again = (await h().post(`/api/v1/instances/${id}/terminal`, undefined, account.key)).body.data;
      term = await connectTerminal(server.base, again.url);
    }
    const word = `gpuplane-${randomBytes(3).toString("hex")}`;
    term.send(`echo ${word}-$((6*7))\r`);
    await eventually("the echo", () => term.output().includes(`${word}-42`), 30_000);
    expect(term.output()).toContain(`${word}-42`);

    expect((await h().post(`/api/v1/instances/${id}/stop`, undefined, account.key)).status).toBe(200);
    const closed = await term.closed;
    expect(closed.code).toBe(4001);
  }, 120_000);
});
