import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { clusters, gpus, instances, nodes } from "../../src/db/schema/index.js";
import { runSchedulerPass } from "../../src/domain/jobs/scheduler.js";
import type { Harness } from "../helpers/harness.js";

/** Fleet rows written directly (the fleet API is another area's): a cluster, nodes and their GPUs. */
export async function addCluster(h: Harness): Promise<number> {
  const [row] = await h.ctx.db
    .insert(clusters)
    .values({ name: `c-${randomBytes(4).toString("hex")}`, region: "test-1" })
    .returning();
  return row.id;
}

export async function addNode(
  h: Harness,
  clusterId: number,
  gpuCount: number,
  options: { model?: string; agent?: boolean } = {},
): Promise<{ nodeId: number; gpuIds: number[] }> {
  const [node] = await h.ctx.db
    .insert(nodes)
    .values({
      clusterId,
      hostname: `n-${randomBytes(5).toString("hex")}`,
      totalGpus: gpuCount,
      lastHeartbeatAt: options.agent ? h.ctx.clock.now() : null,
    })
    .returning();
  const rows = await h.ctx.db
    .insert(gpus)
    .values(
      Array.from({ length: gpuCount }, (_, i) => ({
        nodeId: node.id,
        gpuIndex: i,
        model: options.model ?? "NVIDIA H100 80GB HBM3",
      })),
    )
    .returning();
  return { nodeId: node.id, gpuIds: rows.map((r) => r.id) };
}

export async function setNodeStatus(h: Harness, nodeId: number, status: string) {
  await h.ctx.db.update(nodes).set({ status }).where(eq(nodes.id, nodeId));
}

/** A tenant with its own key and the given GPU quota. */
export async function tenantWithQuota(h: Harness, quota: number) {
  const t = await h.signup();
  const res = await h.patch(`/api/v1/tenants/${t.tenantId}`, { gpu_quota: quota });
  if (res.status !== 200) throw new Error(`quota: ${res.status} ${res.text}`);
  return t;
}

export async function submit(h: Harness, body: Record<string, unknown>, key?: string) {
  const res = await h.post("/api/v1/jobs", { name: "job", ...body }, key);
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${res.text}`);
  return res.body.data as { id: number; status: string };
}

export async function job(h: Harness, id: number) {
  return (await h.get(`/api/v1/jobs/${id}`)).body.data;
}

export const pass = (h: Harness) => runSchedulerPass(h.ctx);

/** An instance row holding GPUs, as the instances area writes it (its own API may not exist yet in this tree). */
export async function addInstance(h: Harness, tenantId: number, gpuCount: number, status = "running") {
  const id = `inst_test_${randomBytes(6).toString("hex")}`;
  await h.ctx.db.insert(instances).values({
    id,
    tenantId,
    name: "held",
    instanceTypeId: "test",
    requestedType: "test",
    imageId: "test",
    regionId: "test-1",
    gpuCount,
    gpuModel: "H100",
    pricePerHourMicros: 0n,
    billingGranularitySeconds: 1,
    provider: "fleet",
    status,
    sshKeyIds: [],
    sshPublicKeys: [],
  });
  return id;
}
