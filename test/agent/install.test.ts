// The operator's path, end to end: the join command's install.sh, fetched from the server, installs the single-file
// agent into a clean root (a temp dir standing in for a fresh host: no checkout, no node_modules, a fake nvidia-smi),
// writes the systemd unit, and — with no systemd here — runs the unit's command under its run.sh supervisor. The node
// goes active; a newer build served by the server is then installed by `POST /nodes/{id}/upgrade` while a job runs,
// and the job finishes and is reported once, by the new agent.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAgent } from "../../packages/agent/src/build.js";
import { jobs } from "../../src/db/schema/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { alive, fakeNvidiaSmiDir, until } from "./spawn-agent.js";

describe("installing the agent as the docs say", () => {
  let h: Harness;
  let http: ReturnType<typeof serve>;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), "gpuplane-install-"));
  const root = join(dir, "host");
  const agentFile = join(dir, "served", "gpuplane-agent.mjs");
  const pidFile = join(root, "var/lib/gpuplane-agent/run.pid");
  let nodeId: number;
  let served: { version: string; sha256: string };

  beforeAll(async () => {
    const first = await buildAgent({ version: "0.1.0" });
    mkdirSync(join(dir, "served"));
    writeFileSync(agentFile, first.code);
    h = await createHarness("pglite", { env: { GPUPLANE_AGENT_FILE: agentFile } });
    http = serve({ fetch: h.app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((resolve) => http.once("listening", resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8"));
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // gone
      }
      await until("the supervisor to stop", async () => !alive(pid), 40_000).catch(() => undefined);
    }
    await new Promise((resolve) => http?.close(resolve));
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const install = async (args: string[]) => {
    const script = await (await fetch(`${url}/agent/install.sh`)).text();
    const empty = mkdtempSync(join(dir, "cwd-"));
    writeFileSync(join(empty, "install.sh"), script);
    // As `curl … | sudo sh -s -- …` runs it: sh reads the script, in a directory with nothing of gpuplane in it.
    // Not spawnSync: the server answering its downloads runs in this process.
    const child = spawn("sh", ["-s", "--", ...args], {
      cwd: empty,
      env: { PATH: process.env.PATH!, HOME: empty },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stdout.on("data", (d) => {
      stderr += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.stdin.end(script);
    const status = await new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    return { status, stderr };
  };
  const agentFlags = [
    "--",
    "--runtime",
    "none",
    "--nvidia-smi",
    join(fakeNvidiaSmiDir, "nvidia-smi"),
    "--hostname",
    "fresh-host",
    "--ip",
    "10.0.0.9",
    "--interval",
    "0.3",
    "--wait",
    "2",
  ];
  const getNode = async () => (await h.get(`/api/v1/nodes/${nodeId}`)).body.data;

  it("serves the agent, its version and checksum, and an install.sh with the server's address", async () => {
    const version = await (await fetch(`${url}/agent/version`)).json();
    const file = Buffer.from(await (await fetch(`${url}/agent/gpuplane-agent.mjs`)).arrayBuffer());
    expect(version.version).toBe("0.1.0");
    expect(version.sha256).toBe(createHash("sha256").update(file).digest("hex"));
    served = version;
    const script = await (await fetch(`${url}/agent/install.sh`)).text();
    expect(script).toContain(`SERVER="${url}"`);
    expect(script).not.toContain("__GPUPLANE_SERVER__");
  });

  it("the join command is one line, and says when it carries a loopback address", async () => {
    const cluster = await h.post("/api/v1/clusters", { name: "fresh", region: "local" });
    const created = await h.post(`/api/v1/clusters/${cluster.body.data.id}/join-tokens`, {});
    expect(created.status).toBe(201);
    const { join_command, join_command_warning, token } = created.body.data;
    expect(join_command).toBe(`curl -fsSL http://localhost/agent/install.sh | sudo sh -s -- --token ${token}`);
    expect(join_command_warning).toMatch(/loopback address.*GPUPLANE_PUBLIC_URL/);

    const result = await install(["--token", token, "--root", root, ...agentFlags]);
    expect(result.stderr).toContain(`agent 0.1.0 installed at ${root}/opt/gpuplane-agent/gpuplane-agent.mjs`);
    expect(result.stderr).toContain("sha256");
    expect(result.stderr).toMatch(/no systemd here/);
    expect(result.status).toBe(0);

    const unit = readFileSync(join(root, "etc/systemd/system/gpuplane-agent.service"), "utf8");
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^WantedBy=multi-user\.target$/m);
    expect(unit).toMatch(/^StandardOutput=journal$/m);
    expect(unit).toMatch(
      new RegExp(`^ExecStart=\\S*node ${root}/opt/gpuplane-agent/gpuplane-agent.mjs \\$GPUPLANE_AGENT_ARGS$`, "m"),
    );
    const env = join(root, "etc/gpuplane-agent/agent.env");
    expect(statSync(env).mode & 0o077).toBe(0); // the join token is readable by root only
    expect(readFileSync(env, "utf8")).toContain(`GPUPLANE_JOIN_TOKEN="${token}"`);

    const credentials = join(root, "var/lib/gpuplane-agent/credentials.json");
    const stored = await until(
      "the agent to join",
      async () => existsSync(credentials) && JSON.parse(readFileSync(credentials, "utf8")),
      30_000,
    ).catch((error) => {
      throw new Error(
        `${error.message}; agent log:\n${readFileSync(join(root, "var/log/gpuplane-agent.log"), "utf8")}`,
      );
    });
    nodeId = stored.nodeId;
    const node = await until("the node active with its agent's version", async () => {
      const n = await getNode();
      return n.status === "active" && n.agent_sha256 && n;
    });
    expect(node).toMatchObject({
      hostname: "fresh-host",
      gpu_count: 8,
      agent_version: "0.1.0",
      agent_sha256: served.sha256,
      agent_outdated: false,
      agent_upgrade_requested_at: null,
    });
    expect((await h.post(`/api/v1/nodes/${nodeId}/upgrade`, {})).status).toBe(409); // already the server's build
  }, 90_000);

  it("running install.sh again is harmless: same node, same file, the agent running", async () => {
    const before = Number(readFileSync(pidFile, "utf8"));
    const again = await install(["--root", root, ...agentFlags]);
    expect(again.stderr).toContain("agent 0.1.0 already installed");
    expect(again.status).toBe(0);
    const after = await until("the supervisor restarted", async () => {
      const pid = existsSync(pidFile) && Number(readFileSync(pidFile, "utf8"));
      return pid && pid !== before && alive(pid) && pid;
    });
    expect(alive(before)).toBe(false);
    expect(after).toBeGreaterThan(0);
    const nodes = (await h.get("/api/v1/nodes")).body.data;
    expect(nodes.filter((n: { hostname: string }) => n.hostname === "fresh-host")).toHaveLength(1);
  }, 90_000);

  it("an upgrade to a newer served build keeps a running job, whose result the new agent reports", async () => {
    const node = await getNode();
    const [job] = await h.ctx.db
      .insert(jobs)
      .values({
        clusterId: node.cluster_id,
        name: "survives-upgrade",
        status: "scheduled",
        nodeId,
        gpuIndices: [0],
        command: "sleep 6; echo finished-after-upgrade",
        gpuCount: 1,
      })
      .returning();
    const row = async () => (await h.ctx.db.select().from(jobs).where(eq(jobs.id, job.id)))[0];
    await until("the job running", async () => (await row()).status === "running", 20_000);

    const newer = await buildAgent({ version: "0.1.1" });
    writeFileSync(agentFile, newer.code);
    expect(await getNode()).toMatchObject({ agent_version: "0.1.0", agent_outdated: true });
    const asked = await h.post(`/api/v1/nodes/${nodeId}/upgrade`, {});
    expect(asked.status).toBe(202);
    expect(asked.body.data.agent_upgrade_requested_at).not.toBeNull();

    const upgraded = await until(
      "the node to run 0.1.1",
      async () => {
        const n = await getNode();
        return n.agent_version === "0.1.1" && n.agent_upgrade_requested_at === null && n;
      },
      30_000,
    ).catch((error) => {
      throw new Error(
        `${error.message}; agent log:\n${readFileSync(join(root, "var/log/gpuplane-agent.log"), "utf8")}`,
      );
    });
    expect(upgraded).toMatchObject({ agent_sha256: newer.sha256, agent_outdated: false, status: "active" });
    const installed = readFileSync(join(root, "opt/gpuplane-agent/gpuplane-agent.mjs"));
    expect(installed.equals(newer.code)).toBe(true);
    expect((await row()).status).toBe("running"); // not stopped, not handed back
    const done = await until(
      "the job's result",
      async () => {
        const r = await row();
        return r.status !== "running" && r;
      },
      30_000,
    );
    expect(done).toMatchObject({ status: "completed", exitCode: 0 });
    expect(done.outputTail).toContain("finished-after-upgrade");
    const log = readFileSync(join(root, "var/log/gpuplane-agent.log"), "utf8");
    expect(log).toMatch(/upgrading 0\.1\.0 → 0\.1\.1/);
    expect(log).toMatch(/restarting into the upgraded file/);
  }, 120_000);
});
