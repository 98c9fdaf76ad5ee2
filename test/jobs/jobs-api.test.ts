import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { addCluster, addNode, job, pass, submit, tenantWithQuota } from "./fleet-fixture.js";

describeEachDb("jobs API (seed 002 job table)", (h) => {
  it("submits with the seed's fields and defaults, then reads it back", async () => {
    const cluster = await addCluster(h());
    const t = await tenantWithQuota(h(), 8);
    const res = await h().post("/api/v1/jobs", {
      cluster_id: cluster,
      name: "train-llm",
      gpu_type: "H100",
      tenant_id: t.tenantId,
      submitted_by: "alice@example.com",
      estimated_duration_min: 90,
      command: "python train.py",
      env: { EPOCHS: "3" },
    });
    expect(res.status).toBe(201);
    const j = res.body.data;
    expect(j).toMatchObject({
      cluster_id: cluster,
      name: "train-llm",
      gpu_count: 1,
      gpu_type: "H100",
      priority: 5,
      tenant_id: t.tenantId,
      submitted_by: "alice@example.com",
      estimated_duration_min: 90,
      command: "python train.py",
      status: "queued",
    });
    expect(j).not.toHaveProperty("env");
    expect(Number.isInteger(j.id)).toBe(true);
    expect((await h().get(`/api/v1/jobs/${j.id}`)).body.data.name).toBe("train-llm");
    const list = await h().get(`/api/v1/jobs?tenant_id=${t.tenantId}`);
    expect(list.body.data.map((x: any) => x.id)).toEqual([j.id]);
    expect(list.body.meta.total).toBe(1);
  });

  it("names the field when cluster_id or name is missing, and 404s an unknown cluster", async () => {
    const noCluster = await h().post("/api/v1/jobs", { name: "x" });
    expect(noCluster.status).toBe(400);
    expect(noCluster.body.error).toContain("cluster_id");
    const cluster = await addCluster(h());
    expect((await h().post("/api/v1/jobs", { cluster_id: cluster })).body.error).toContain("name");
    const unknown = await h().post("/api/v1/jobs", { cluster_id: 999_999, name: "x" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toContain("cluster");
    expect((await h().post("/api/v1/jobs", { cluster_id: cluster, name: "x", priority: 0 })).status).toBe(400);
  });

  it("refuses at submit a job asking for more GPUs than the tenant's whole quota", async () => {
    const cluster = await addCluster(h());
    const t = await tenantWithQuota(h(), 4);
    const res = await h().post("/api/v1/jobs", { cluster_id: cluster, name: "big", gpu_count: 8 }, t.key);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/gpu_count 8 exceeds the tenant's GPU quota of 4/);
  });

  it("lets a tenant key submit for itself only and see only its own jobs", async () => {
    const cluster = await addCluster(h());
    const a = await tenantWithQuota(h(), 8);
    const b = await tenantWithQuota(h(), 8);
    const mine = await submit(h(), { cluster_id: cluster }, a.key);
    expect((await job(h(), mine.id)).tenant_id).toBe(a.tenantId);
    const forOther = await h().post("/api/v1/jobs", { cluster_id: cluster, name: "x", tenant_id: b.tenantId }, a.key);
    expect(forOther.status).toBe(404);
    const theirs = await submit(h(), { cluster_id: cluster }, b.key);
    expect((await h().get(`/api/v1/jobs/${theirs.id}`, a.key)).status).toBe(404);
    expect((await h().post(`/api/v1/jobs/${theirs.id}/cancel`, undefined, a.key)).status).toBe(404);
    const patch = await h().patch(`/api/v1/jobs/${theirs.id}/status`, { status: "cancelled" }, a.key);
    expect(patch.status).toBe(404);
    const listed = await h().get("/api/v1/jobs", a.key);
    expect(listed.body.data.map((x: any) => x.id)).toEqual([mine.id]);
    expect((await h().get(`/api/v1/jobs?tenant_id=${b.tenantId}`, a.key)).status).toBe(404);
  });

  it("validates status changes: block_reason required for blocked, 409 naming the state", async () => {
    const cluster = await addCluster(h());
    const j = await submit(h(), { cluster_id: cluster });
    const noReason = await h().patch(`/api/v1/jobs/${j.id}/status`, { status: "blocked" });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error).toContain("block_reason");
    const held = await h().patch(`/api/v1/jobs/${j.id}/status`, { status: "blocked", block_reason: "maintenance" });
    expect(held.body.data).toMatchObject({ status: "blocked", block_reason: "maintenance" });
    const skip = await h().patch(`/api/v1/jobs/${j.id}/status`, { status: "running" });
    expect(skip.status).toBe(409);
    expect(skip.body.error).toContain("job is blocked");
    expect((await h().patch(`/api/v1/jobs/${j.id}/status`, { status: "cancelled" })).body.data.status).toBe(
      "cancelled",
    );
    const again = await h().patch(`/api/v1/jobs/${j.id}/status`, { status: "queued" });
    expect(again.status).toBe(409);
    expect(again.body.error).toContain("job is cancelled");
    expect((await h().post(`/api/v1/jobs/${j.id}/cancel`)).status).toBe(409);
  });

  it("an operator hold (blocked with its own reason) is not scheduled until set queued again", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 2);
    const j = await submit(h(), { cluster_id: cluster });
    await h().patch(`/api/v1/jobs/${j.id}/status`, { status: "blocked", block_reason: "held for maintenance" });
    await pass(h());
    expect((await job(h(), j.id)).status).toBe("blocked");
    await h().patch(`/api/v1/jobs/${j.id}/status`, { status: "queued" });
    await pass(h());
    expect((await job(h(), j.id)).status).toBe("running");
  });

  it("moves through running to completed, with timestamps, and releases the GPUs", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 1, { agent: true });
    const j = await submit(h(), { cluster_id: cluster });
    await pass(h());
    const scheduled = await job(h(), j.id);
    expect(scheduled.status).toBe("scheduled");
    expect(scheduled.scheduled_at).not.toBeNull();
    const running = await h().patch(`/api/v1/jobs/${j.id}/status`, { status: "running" });
    expect(running.body.data.started_at).not.toBeNull();
    const done = await h().patch(`/api/v1/jobs/${j.id}/status`, { status: "completed" });
    expect(done.body.data).toMatchObject({ status: "completed" });
    expect(done.body.data.finished_at).not.toBeNull();
    const next = await submit(h(), { cluster_id: cluster });
    await pass(h());
    expect((await job(h(), next.id)).status).toBe("scheduled");
  });
});
