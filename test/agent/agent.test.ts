import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { events, gpuMetrics, gpus, instances, jobs, nodes } from "../../src/db/schema/index.js";
import { cancelJob } from "../../src/domain/jobs/lifecycle.js";
import { describeOneDb } from "../helpers/harness.js";
import { alive, TestHost, until } from "./spawn-agent.js";

/**
 * The real agent (a child process, with a fake nvidia-smi built from real H100 output first on its PATH) against the
 * real server, served over HTTP. The server's clock is moved by hand for the heartbeat grace period.
 */
describeOneDb(
  "node agent end to end",
  (h) => {
    let url: string;
    let http: ReturnType<typeof serve>;
    let clusterId: number;
    let host: TestHost;
    let nodeId: number;
    let credential: string;
    const hosts: TestHost[] = [];

    beforeAll(async () => {
      http = serve({ fetch: h().app.fetch, port: 0, hostname: "127.0.0.1" });
      await new Promise((resolve) => http.once("listening", resolve));
      url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      const cluster = await h().post("/api/v1/clusters", { name: `agents-${h().kind}`, region: "us-east-1" });
      expect(cluster.status).toBe(201);
      clusterId = cluster.body.data.id;
      host = new TestHost(`gpu-host-${h().kind}`);
      hosts.push(host);
    });

    afterAll(async () => {
      for (const x of hosts) {
        await x.stop();
        x.killJobs();
      }
      await new Promise((resolve) => http.close(resolve));
    });

    const node = async () => (await h().ctx.db.select().from(nodes).where(eq(nodes.id, nodeId)))[0];
    const nodeGpus = async () =>
      (await h().ctx.db.select().from(gpus).where(eq(gpus.nodeId, nodeId))).sort((a, b) => a.gpuIndex - b.gpuIndex);
    const job = async (id: number) => (await h().ctx.db.select().from(jobs).where(eq(jobs.id, id)))[0];
    async function assignJob(command: string, gpuIndices: number[]) {
      const [row] = await h()
        .ctx.db.insert(jobs)
        .values({
          clusterId,
          name: "agent-test",
          status: "scheduled",
          nodeId,
          gpuIndices,
          command,
          gpuCount: gpuIndices.length,
        })
        .returning();
      return row.id;
    }

    it("an operator creates a join token; a tenant cannot", async () => {
      const tenant = await h().signup();
      expect((await h().post(`/api/v1/clusters/${clusterId}/join-tokens`, {}, tenant.key)).status).toBe(403);
      expect((await h().post("/api/v1/clusters/999999/join-tokens", {})).status).toBe(404);
      const created = await h().post(`/api/v1/clusters/${clusterId}/join-tokens`, { ttl_seconds: 3600 });
      expect(created.status).toBe(201);
      expect(created.body.data.token).toMatch(/^gpj_[0-9a-f]{64}$/);
      expect(created.body.data.join_command).toContain(created.body.data.token);
    });

    it("the agent joins with a token: node and 8 GPUs from nvidia-smi, a stored node credential", async () => {
      const token = (await h().post(`/api/v1/clusters/${clusterId}/join-tokens`, {})).body.data.token;
      host.start(["--server", url, "--token", token]);
      const stored = await until("credentials", async () => {
        const file = join(host.stateDir, "credentials.json");
        return existsSync(file) && JSON.parse(readFileSync(file, "utf8"));
      });
      nodeId = stored.nodeId;
      credential = stored.key;
      const row = await node();
      expect(row).toMatchObject({ hostname: host.hostname, ipAddress: "10.0.0.7", status: "active", totalGpus: 8 });
      expect(row.cpuCores).toBeGreaterThan(0);
      const list = await nodeGpus();
      expect(list).toHaveLength(8);
      expect(list[3]).toMatchObject({
        gpuIndex: 3,
        uuid: "GPU-7b264f23-a301-88a1-beb5-74619471dd03",
        model: "NVIDIA H100 80GB HBM3",
        vramMb: 81559,
        driverVersion: "580.159.04",
        health: "healthy",
      });
      // The token was single-use.
      const again = await h().post("/api/v1/agent/join", { token, hostname: "other", gpus: [] }, null);
      expect(again.status).toBe(401);
    });

    it("the node credential reaches only its own node", async () => {
      for (const path of ["/api/v1/tenants", "/api/v1/clusters", "/api/v1/nodes", "/api/v1/jobs", "/api/v1/api-keys"]) {
        const res = await h().get(path, credential);
        expect([403, 404], path).toContain(res.status);
      }
      expect((await h().post(`/api/v1/clusters/${clusterId}/join-tokens`, {}, credential)).status).toBe(403);
      // The agent routes take only a node credential.
      expect((await h().post("/api/v1/agent/heartbeat", { gpus: [] })).status).toBe(403);
      // Another node's job is not found.
      const other = await h()
        .ctx.db.insert(nodes)
        .values({ clusterId, hostname: `other-${h().kind}` })
        .returning();
      const [foreign] = await h()
        .ctx.db.insert(jobs)
        .values({ clusterId, name: "foreign", status: "scheduled", nodeId: other[0].id, command: "true" })
        .returning();
      const res = await h().post(`/api/v1/agent/jobs/${foreign.id}/status`, { status: "running" }, credential);
      expect(res.status).toBe(404);
    });

    it("heartbeats keep the node alive; metrics land when the metrics endpoint exists", async (t) => {
      const before = (await node()).lastHeartbeatAt!;
      h().clock.advance(5_000);
      await until("a heartbeat", async () => (await node()).lastHeartbeatAt! > before);
      const probe = await h().post("/api/v1/metrics", { metrics: [] }, credential);
      if (probe.status === 404 && /no route/.test(probe.text)) t.skip();
      const ids = (await nodeGpus()).map((g) => g.id);
      await until("metrics for every GPU", async () => {
        const rows = await h().ctx.db.select().from(gpuMetrics);
        return ids.every((id) => rows.some((r) => r.gpuId === id));
      });
    });

    it("an uncorrected ECC error marks the GPU unhealthy; HW thermal slowdown degrades another", async () => {
      host.setGpus({ "2": { ecc_uncorrected: 3 }, "6": { throttle: ["hw_thermal_slowdown"], temperature: 92 } });
      await until("GPU 2 unhealthy", async () => (await nodeGpus())[2].health === "unhealthy");
      const list = await until("GPU 6 degraded", async () => {
        const l = await nodeGpus();
        return l[6].health === "degraded" && l;
      });
      expect(list[2].healthReason).toBe("3 volatile uncorrected ECC error(s)");
      expect(list[6].healthReason).toBe("HW thermal slowdown; temperature 92 C >= 85 C");
      try {
        await h().runWorker("alerts");
      } catch {
        // the alerts worker is the fleet area's; without it the GPU's health above is what operators see
      }
      host.setGpus({});
      await until("GPUs healthy again", async () => (await nodeGpus()).every((g) => g.health === "healthy"));
    });

    it("runs an assigned job with CUDA_VISIBLE_DEVICES set to its GPUs and reports exit status and output", async () => {
      const id = await assignJob('echo "visible=$CUDA_VISIBLE_DEVICES job=$GPUPLANE_JOB_ID"; exit 0', [3, 5]);
      const done = await until("job completed", async () => {
        const row = await job(id);
        return row.status === "completed" && row;
      });
      expect(done.exitCode).toBe(0);
      expect(done.outputTail).toContain(`visible=3,5 job=${id}`);

      const failing = await assignJob("echo boom >&2; exit 3", [0]);
      const failed = await until("job failed", async () => {
        const row = await job(failing);
        return row.status === "failed" && row;
      });
      expect(failed.exitCode).toBe(3);
      expect(failed.outputTail).toContain("boom");
    });

    it("a cancelled job's process group is killed", async () => {
      const id = await assignJob("sleep 60 & sleep 60; wait", [1]);
      const pid = await until("job running", async () => (await job(id)).status === "running" && host.jobPid(id));
      await cancelJob(h().ctx, id, null);
      await until("job processes gone", async () => !alive(pid as number), 10_000);
      expect((await job(id)).status).toBe("cancelled");
    });

    it("an instance placed on the node gets its SSH keys and is reported running", async (t) => {
      const tenant = await h().signup();
      const id = `inst_agent_${h().kind}`;
      await h()
        .ctx.db.insert(instances)
        .values({
          id,
          tenantId: tenant.tenantId,
          name: "agent-instance",
          instanceTypeId: "it_test",
          requestedType: "GPU.H100.1x",
          imageId: "img_test",
          regionId: "us-east-1",
          gpuCount: 1,
          gpuModel: "H100",
          pricePerHourMicros: 2_000_000n,
          billingGranularitySeconds: 1,
          provider: "fleet",
          nodeId,
          status: "provisioning",
          sshKeyIds: [],
          sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAgent test@example"],
        })
        .catch((error) => t.skip(`instances schema changed: ${error.message}`));
      const running = await until("instance running", async () => {
        const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
        return row.status === "running" && row;
      });
      expect(running).toMatchObject({ ipAddress: "10.0.0.7", sshPort: 22 });
      expect(running.sshUser).toMatch(/^gp-/);
      const keys = readFileSync(join(host.stateDir, "instances", id, "authorized_keys"), "utf8");
      expect(keys).toContain("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAgent test@example");
    });

    it("without a container runtime the host serves one tenant: a second tenant's instance fails, saying why", async () => {
      const [first] = await h()
        .ctx.db.select()
        .from(instances)
        .where(eq(instances.id, `inst_agent_${h().kind}`));
      expect(first.status).toBe("running");
      const other = await h().signup();
      const id = `inst_agent_a_${h().kind}`; // sorts before the first tenant's: the owner is who runs, not who sorts
      await h()
        .ctx.db.insert(instances)
        .values({
          ...first,
          id,
          tenantId: other.tenantId,
          status: "provisioning",
          ipAddress: null,
          runningSince: null,
        });
      const refused = await until("second tenant refused", async () => {
        const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
        return row.status === "failed" && row;
      });
      expect(refused.statusReason).toContain("--runtime none");
      expect(existsSync(join(host.stateDir, "instances", id))).toBe(false);
      const [still] = await h().ctx.db.select().from(instances).where(eq(instances.id, first.id));
      expect(still.status).toBe("running");
    });

    it("a job survives an agent restart: the new agent adopts it and reports its result", async () => {
      const id = await assignJob("sleep 2; echo finished-after-restart", [4]);
      await until("job running", async () => (await job(id)).status === "running");
      await host.stop("SIGKILL");
      host.start();
      const done = await until("job completed", async () => {
        const row = await job(id);
        return row.status === "completed" && row;
      });
      expect(done.outputTail).toContain("finished-after-restart");
      expect(host.output).toContain("using the stored credential");
    });

    it("a node whose heartbeats stop is marked down after the grace period; its work is lost; it comes back", async () => {
      const id = await assignJob("sleep 60", [7]);
      await until("job running", async () => (await job(id)).status === "running");
      await host.stop("SIGKILL");
      host.killJobs();
      h().clock.advance(30_000);
      await h().runWorker("node-health");
      expect((await node()).status).toBe("active"); // within the grace period
      h().clock.advance(31_000);
      await h().runWorker("node-health");
      expect((await node()).status).toBe("down");
      const lost = await job(id);
      expect(lost.status).toBe("failed");
      expect(lost.outputTail).toContain("stopped sending heartbeats");
      const down = await h()
        .ctx.db.select()
        .from(events)
        .where(and(eq(events.type, "node.down")));
      expect(down.some((e) => (e.data as { node_id: number }).node_id === nodeId)).toBe(true);

      host.start();
      await until("node back", async () => (await node()).status === "active");
      const up = await h().ctx.db.select().from(events).where(eq(events.type, "node.up"));
      expect(up.some((e) => (e.data as { node_id: number }).node_id === nodeId)).toBe(true);
    });

    it("SIGTERM drains: a job that does not finish in time is stopped and handed back; the agent exits", async () => {
      await host.stop("SIGKILL");
      host.start(["--drain-timeout", "1"]);
      const id = await assignJob("sleep 60", [0]);
      const pid = await until("job running", async () => (await job(id)).status === "running" && host.jobPid(id));
      expect(await host.stop("SIGTERM")).toBe(0);
      expect(alive(pid as number)).toBe(false);
      const row = await job(id);
      expect(row.status).toBe("failed");
      expect(row.outputTail).toContain("stopped by the node agent");
      expect(host.output).toContain("drained");
    });
  },
  // The clock starts at the wall clock: the agent stamps metric samples with its own time.
  { manualClock: new Date(), env: { GPUPLANE_NODE_GRACE_S: "60" } },
);
