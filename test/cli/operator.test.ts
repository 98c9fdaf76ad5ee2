import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveServer, startLiveServer } from "../sdk/live-server.js";
import { runCli, tempHome } from "./run-cli.js";

/** The operator's commands with the real binary: tenants, nodes, jobs, alerts and join tokens. */
describe("gpuplane CLI: an operator's session", () => {
  let server: LiveServer;
  const { home, remove } = tempHome();
  let clusterId: number;
  let nodeId: number;
  let tenantId: number;
  const cli = (args: string[]) =>
    runCli(args, { home, env: { GPUPLANE_URL: server.url, GPUPLANE_API_KEY: server.operatorKey } });

  beforeAll(async () => {
    server = await startLiveServer("pglite");
    tenantId = (await server.signup()).tenantId;
    clusterId = (await server.post("/api/v1/clusters", { name: "lab", region: "FIN-01" })).body.data.id;
    const node = await server.post("/api/v1/nodes", { cluster_id: clusterId, hostname: "gpu-01", total_gpus: 8 });
    nodeId = node.body.data.id;
  });
  afterAll(async () => {
    await server?.close();
    remove();
  });

  it("lists and shows tenants", async () => {
    const listed = await cli(["tenants", "list", "--json"]);
    expect(listed.json().map((t: any) => t.id)).toContain(tenantId);
    const shown = await cli(["tenants", "show", String(tenantId)]);
    expect(shown.stdout).toMatch(new RegExp(`id:\\s+${tenantId}`));
    const bad = await cli(["tenants", "show", "abc"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('tenant id must be a number, not "abc"');
  });

  it("cordons, drains and uncordons a node, as the node list shows", async () => {
    const status = async () =>
      (await cli(["nodes", "list", "--cluster", String(clusterId), "--json"])).json().find((n: any) => n.id === nodeId)
        .status;
    expect((await cli(["nodes", "cordon", String(nodeId)])).code).toBe(0);
    expect(await status()).toBe("cordoned");
    expect((await cli(["nodes", "uncordon", String(nodeId)])).code).toBe(0);
    expect(await status()).toBe("active");
    expect((await cli(["nodes", "drain", String(nodeId)])).code).toBe(0);
    expect(await status()).toBe("draining");
    const table = await cli(["nodes", "list"]);
    expect(table.stdout).toMatch(/gpu-01\s+-\s+draining/);
    expect((await cli(["nodes", "cordon", "999999"])).code).toBe(3);
  });

  it("submits a job, lists it, shows its logs, and cancels it", async () => {
    const submitted = await cli([
      "jobs",
      "submit",
      "train-llm",
      "--cluster",
      String(clusterId),
      "--gpus",
      "2",
      "--command",
      "python train.py",
      "--image",
      "nvcr.io/nvidia/pytorch:24.05-py3",
      "--tenant",
      String(tenantId),
      "--env",
      "EPOCHS=3",
      "--json",
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const job = submitted.json();
    expect(job).toMatchObject({ name: "train-llm", gpu_count: 2, command: "python train.py", tenant_id: tenantId });
    expect(job.image).toBe("nvcr.io/nvidia/pytorch:24.05-py3");
    expect((await cli(["jobs", "submit", "--help"])).stdout).toContain("--image REF");
    expect((await cli(["jobs", "list", "--json"])).json().map((j: any) => j.id)).toContain(job.id);
    const logs = await cli(["jobs", "logs", String(job.id)]);
    expect(logs.stdout).toMatch(new RegExp(`-- job ${job.id} \\w+`));
    const cancelled = await cli(["jobs", "cancel", String(job.id)]);
    expect(cancelled.stdout.trim()).toBe(`job ${job.id} cancelled`);
    const badEnv = await cli(["jobs", "submit", "x", "--cluster", String(clusterId), "--env", "NOEQUALS"]);
    expect(badEnv.code).toBe(2);
  });

  it("lists alert events and prints a join token's agent command", async () => {
    const alerts = await cli(["alerts", "--json"]);
    expect(alerts.code).toBe(0);
    expect(Array.isArray(alerts.json())).toBe(true);
    const token = await cli(["join-token", String(clusterId)]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toMatch(
      /on the GPU host run:\n\n {2}curl -fsSL http:\/\/127.0.0.1:\d+\/agent\/install.sh \| sudo sh -s -- --token gpj_\S+\n/,
    );
    expect(token.stdout).toMatch(/warning: http:\/\/127.0.0.1:\d+ is a loopback address.*GPUPLANE_PUBLIC_URL/);
  });
  it("lists the audit trail: the node writes above, filtered by action", async () => {
    expect((await cli(["nodes", "cordon", String(nodeId)])).code).toBe(0);
    const listed = await cli(["audit", "--action", "node.*", "--target", `node:${nodeId}`, "--json"]);
    expect(listed.code).toBe(0);
    const actions = listed.json().map((e: any) => e.action);
    expect(actions).toContain("node.cordon");
    expect(actions.every((a: string) => a.startsWith("node."))).toBe(true);
    expect((await cli(["audit", "--target", `node:${nodeId}`])).stdout).toMatch(/operator key_\S+\s+-\s+node\.cordon/);
  });
});
