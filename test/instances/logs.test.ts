import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { instanceLogs, instances } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "./fixtures.js";

/**
 * A fleet instance's container output: the node agent posts batches (POST /agent/instances/{id}/logs), the customer
 * reads the last lines (GET /instances/{id}/logs). The agent is played over HTTP with its node credential.
 */
describeEachDb("instance logs", (h) => {
  /** A node joined by the agent in a region of its own, and a customer's instance placed on it. */
  async function fleetInstance() {
    const region = `LOG-${randomBytes(3).toString("hex")}`;
    await h().post("/api/v1/regions", { id: region, name: region });
    const cluster = (await h().post("/api/v1/clusters", { name: `logs-${region}`, region })).body.data.id;
    const token = (await h().post(`/api/v1/clusters/${cluster}/join-tokens`, {})).body.data.token;
    const hostname = `logs-${randomBytes(4).toString("hex")}`;
    const gpus = [{ index: 0, uuid: `GPU-${hostname}`, model: "NVIDIA H100 80GB HBM3" }];
    const joined = await h().post("/api/v1/agent/join", { token, hostname, gpus }, null);
    expect(joined.status).toBe(201);
    const owner = await customer(h());
    const created = await h().post(
      "/api/v1/deployments/clusters",
      {
        cluster_type: "1H100.80S.30V",
        image: "ubuntu-22.04-cuda-12.4-cluster",
        hostname: "f",
        ssh_key_ids: [owner.sshKeyId],
        location: region,
      },
      owner.key,
    );
    expect(created.status).toBe(201);
    return { id: created.body.data.id as string, owner, nodeKey: joined.body.data.credential as string };
  }

  const batch = (
    from: number,
    count: number,
    at = (i: number) => `2026-12-05T10:00:00.${String(i).padStart(6, "0")}123Z`,
  ) => ({
    lines: Array.from({ length: count }, (_, k) => ({ at: at(from + k), seq: 0, line: `line ${from + k}` })),
  });

  it("shows the lines the agent sent, oldest first, with microsecond times; tail and since narrow them", async () => {
    const { id, owner, nodeKey } = await fleetInstance();
    const sent = await h().post(`/api/v1/agent/instances/${id}/logs`, batch(1, 5), nodeKey);
    expect(sent.status).toBe(200);
    expect(sent.body.data).toEqual({ stored: 5 });

    const all = await h().get(`/api/v1/instances/${id}/logs`, owner.key);
    expect(all.status).toBe(200);
    expect(all.body.data).toMatchObject({ instance_id: id, available: true, reason: null });
    expect(all.body.data.lines.map((l: any) => l.line)).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5"]);
    expect(all.body.data.lines[0].at).toBe("2026-12-05T10:00:00.000001Z");
    expect(all.body.data.next_since).toBe("2026-12-05T10:00:00.000005Z");

    const tail = await h().get(`/api/v1/instances/${id}/logs?tail=2`, owner.key);
    expect(tail.body.data.lines.map((l: any) => l.line)).toEqual(["line 4", "line 5"]);
    const since = await h().get(`/api/v1/instances/${id}/logs?since=2026-12-05T10:00:00.000003Z`, owner.key);
    expect(since.body.data.lines.map((l: any) => l.line)).toEqual(["line 4", "line 5"]);
    const none = await h().get(`/api/v1/instances/${id}/logs?since=${all.body.data.next_since}`, owner.key);
    expect(none.body.data).toMatchObject({ lines: [], next_since: "2026-12-05T10:00:00.000005Z" });
  });

  it("stores a batch sent again, or by two replicas at once, only once", async () => {
    const { id, owner, nodeKey } = await fleetInstance();
    const replica = await h().replica();
    try {
      const body = batch(1, 50);
      const [a, b] = await Promise.all([
        h().post(`/api/v1/agent/instances/${id}/logs`, body, nodeKey),
        replica.post(`/api/v1/agent/instances/${id}/logs`, body, nodeKey),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.body.data.stored + b.body.data.stored).toBe(50);
      const again = await h().post(`/api/v1/agent/instances/${id}/logs`, body, nodeKey);
      expect(again.body.data).toEqual({ stored: 0 });
      // Two lines in the same microsecond are told apart by seq.
      const same = { lines: [0, 1].map((seq) => ({ at: "2026-12-05T11:00:00Z", seq, line: `same ${seq}` })) };
      expect((await h().post(`/api/v1/agent/instances/${id}/logs`, same, nodeKey)).body.data).toEqual({ stored: 2 });
    } finally {
      await replica.close();
    }
    const read = await h().get(`/api/v1/instances/${id}/logs?tail=2000`, owner.key);
    expect(read.body.data.lines).toHaveLength(52);
    expect(read.body.data.lines.slice(-2).map((l: any) => l.line)).toEqual(["same 0", "same 1"]);
  });

  it("keeps a bounded window per instance: the oldest lines go, long lines are cut", async () => {
    const { id, owner, nodeKey } = await fleetInstance();
    for (let from = 1; from <= 2500; from += 500) {
      expect((await h().post(`/api/v1/agent/instances/${id}/logs`, batch(from, 500), nodeKey)).status).toBe(200);
    }
    const rows = await h().ctx.db.select().from(instanceLogs).where(eq(instanceLogs.instanceId, id));
    expect(rows).toHaveLength(2000);
    const read = await h().get(`/api/v1/instances/${id}/logs?tail=2000`, owner.key);
    expect(read.body.data.lines[0].line).toBe("line 501");
    expect(read.body.data.lines.at(-1).line).toBe("line 2500");
    expect(read.body.data.window).toEqual({ lines: 2000, bytes: 524288 });

    // By bytes: 200 lines of 10 KB each are cut to 4 KiB, and only 512 KiB of them are kept.
    const long = {
      lines: Array.from({ length: 200 }, (_, k) => ({
        at: `2026-12-05T12:00:${String(Math.floor(k / 10)).padStart(2, "0")}.${k % 10}Z`,
        seq: 0,
        line: `${k} ${"x".repeat(10_000)}`,
      })),
    };
    expect((await h().post(`/api/v1/agent/instances/${id}/logs`, long, nodeKey)).status).toBe(200);
    const kept = await h().ctx.db.select().from(instanceLogs).where(eq(instanceLogs.instanceId, id));
    const bytes = kept.reduce((sum, r) => sum + Buffer.byteLength(r.line), 0);
    expect(bytes).toBeLessThanOrEqual(512 * 1024);
    expect(bytes).toBeGreaterThan(500 * 1024);
    const last = (await h().get(`/api/v1/instances/${id}/logs?tail=1`, owner.key)).body.data.lines[0].line as string;
    expect(last).toMatch(/^199 x+ … \[5908 bytes cut\]$/);
    expect(Buffer.byteLength(last)).toBeLessThan(4200);
  });

  it("is the owner's only: another tenant gets a 404, another node's agent a 404, a customer key a 403", async () => {
    const { id, owner, nodeKey } = await fleetInstance();
    const other = await fleetInstance();
    await h().post(`/api/v1/agent/instances/${id}/logs`, batch(1, 3), nodeKey);
    const stranger = await h().signup();
    const denied = await h().get(`/api/v1/instances/${id}/logs`, stranger.key);
    expect(denied.status).toBe(404);
    expect(denied.text).not.toContain("line 1");
    const wrongNode = await h().post(`/api/v1/agent/instances/${id}/logs`, batch(10, 1), other.nodeKey);
    expect(wrongNode.status).toBe(404);
    const asCustomer = await h().post(`/api/v1/agent/instances/${id}/logs`, batch(20, 1), owner.key);
    expect(asCustomer.status).toBe(403);
    const read = await h().get(`/api/v1/instances/${id}/logs`, owner.key);
    expect(read.body.data.lines.map((l: any) => l.line)).toEqual(["line 1", "line 2", "line 3"]);
  });

  it("refuses a malformed batch or query with a 400 naming the field, storing nothing", async () => {
    const { id, owner, nodeKey } = await fleetInstance();
    const badTime = await h().post(
      `/api/v1/agent/instances/${id}/logs`,
      {
        lines: [
          { at: "2026-12-05T10:00:00Z", seq: 0, line: "fine" },
          { at: "yesterday", seq: 0, line: "x" },
        ],
      },
      nodeKey,
    );
    expect(badTime.status).toBe(400);
    expect(badTime.body.error).toMatch(/at/);
    const tooMany = await h().post(`/api/v1/agent/instances/${id}/logs`, batch(1, 1001), nodeKey);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatch(/lines/);
    expect((await h().get(`/api/v1/instances/${id}/logs?tail=0`, owner.key)).status).toBe(400);
    const since = await h().get(`/api/v1/instances/${id}/logs?since=soon`, owner.key);
    expect(since.status).toBe(400);
    expect(since.body.error).toMatch(/since/);
    expect(await h().ctx.db.select().from(instanceLogs).where(eq(instanceLogs.instanceId, id))).toEqual([]);
  });

  it("says plainly when nothing streams an instance's output: a simulated one, an upstream cloud's", async () => {
    const owner = await customer(h());
    const created = await h().post(
      "/api/v1/instances",
      { planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyIds: [owner.sshKeyId] },
      owner.key,
    );
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    const simulated = await h().get(`/api/v1/instances/${id}/logs`, owner.key);
    expect(simulated.body.data).toMatchObject({ available: false, lines: [] });
    expect(simulated.body.data.reason).toMatch(/simulated/);
    await h().ctx.db.update(instances).set({ provider: "runpod" }).where(eq(instances.id, id));
    const upstream = await h().get(`/api/v1/instances/${id}/logs`, owner.key);
    expect(upstream.body.data).toMatchObject({ available: false, lines: [] });
    expect(upstream.body.data.reason).toMatch(/not available from runpod/);
  });
});
