import { and, eq, inArray, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { images, type NodeImages, nodes } from "../../db/schema/index.js";
import { queryRows } from "../../db/sql.js";
import { ApiError } from "../../lib/errors.js";
import { defaultOciRef } from "../catalog/images.js";
import { modelPattern } from "../gpu-model.js";

/**
 * Container images on fleet nodes. Each agent with a container runtime reports every tag and digest its runtime
 * lists (so an image an operator loaded with `podman load` counts), whether it pulls what it lacks (`--pull`), and
 * the pulls that failed. Placement reads it: a node that lacks an image and cannot get it is not chosen, a node that
 * has it goes first, and work whose image no eligible node can get is refused (instances) or waits (jobs).
 */

/** What a node can do for one image. `unknown`: no report (an agent-less node, --runtime none, an older agent). */
export type ImageState = "present" | "pullable" | "failed" | "missing" | "unknown";

/**
 * A reference as Docker and podman resolve a short name: docker.io for a name without a registry, library/ for a
 * single-component Docker Hub name, :latest without tag or digest; a digest wins over a tag. So `ubuntu:22.04`
 * (docker's RepoTags) and `docker.io/library/ubuntu:22.04` (podman's) are the same image.
 */
export function normalizeRef(ref: string): string {
  let rest = ref.trim();
  let digest = "";
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at);
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf("/");
  const first = slash < 0 ? "" : rest.slice(0, slash);
  let domain = "docker.io";
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    domain = first;
    rest = rest.slice(slash + 1);
  }
  if (domain === "index.docker.io") domain = "docker.io";
  const lastSegment = rest.slice(rest.lastIndexOf("/") + 1);
  let tag = "";
  const colon = lastSegment.indexOf(":");
  if (colon >= 0) {
    tag = lastSegment.slice(colon);
    rest = rest.slice(0, rest.length - tag.length);
  }
  if (domain === "docker.io" && !rest.includes("/")) rest = `library/${rest}`;
  const name = `${domain}/${rest}`.toLowerCase();
  if (digest) return `${name}${digest}`;
  return `${name}${tag || ":latest"}`;
}

export interface ImagesInput {
  present: string[];
  pull: "missing" | "never";
  failed?: { ref: string; error: string }[];
}

/** The node's report as stored: references normalized. */
export function imagesReport(input: ImagesInput, at: Date): NodeImages {
  return {
    present: [...new Set(input.present.map(normalizeRef))].sort(),
    pull: input.pull,
    failed: (input.failed ?? []).map((f) => ({ ref: normalizeRef(f.ref), error: f.error.slice(0, 500) })),
    reportedAt: at.toISOString(),
  };
}

export function imageState(report: NodeImages | null | undefined, ref: string): ImageState {
  if (!report) return "unknown";
  const wanted = normalizeRef(ref);
  if (report.present.includes(wanted)) return "present";
  if (report.failed.some((f) => f.ref === wanted)) return "failed";
  return report.pull === "missing" ? "pullable" : "missing";
}

/** The images every node should have: the active catalog's container images and the operator's list. */
export async function wantedImages(ctx: AppContext): Promise<string[]> {
  const rows = await ctx.db
    .select({ id: images.id, ociRef: images.ociRef })
    .from(images)
    .where(eq(images.active, true));
  const refs = rows.map((r) => r.ociRef ?? defaultOciRef(r.id)).filter((r): r is string => Boolean(r));
  return [...new Set([...refs, ...ctx.config.nodeImages])].sort();
}

/** The images a node view shows: the active catalog's container images and the operator's list. */
export async function nodeImageCatalog(ctx: AppContext): Promise<{ id: string | null; ref: string }[]> {
  const rows = await ctx.db
    .select({ id: images.id, ociRef: images.ociRef })
    .from(images)
    .where(eq(images.active, true))
    .orderBy(images.id);
  const catalog = rows
    .map((r) => ({ id: r.id as string | null, ref: r.ociRef ?? defaultOciRef(r.id) }))
    .filter((r): r is { id: string | null; ref: string } => r.ref !== null);
  return [...catalog, ...ctx.config.nodeImages.map((ref) => ({ id: null, ref }))];
}

/** What a node can do for each of those images (null: the node never reported: no agent with a runtime). */
export function imagesOnNode(report: NodeImages | null, catalog: { id: string | null; ref: string }[]) {
  if (!report) return null;
  return {
    pull: report.pull,
    reported_at: report.reportedAt,
    present_count: report.present.length,
    catalog: catalog.map((c) => ({
      image_id: c.id,
      oci_ref: c.ref,
      state: imageState(report, c.ref) as Exclude<ImageState, "unknown">,
      error: report.failed.find((f) => f.ref === normalizeRef(c.ref))?.error ?? null,
    })),
  };
}

/** The nodes that could host `gpuModel` GPUs in a region, each with what it can do for `ref`. */
export async function imageOnNodes(
  db: Executor,
  ref: string,
  where: { regionId?: string; clusterId?: number; gpuModel?: string | null },
): Promise<{ nodeId: number; hostname: string; state: ImageState }[]> {
  const rows = await queryRows<{ id: number; hostname: string; images: NodeImages | string | null }>(
    db,
    sql`select n.id, n.hostname, n.images
        from nodes n join clusters c on c.id = n.cluster_id
        where n.status = 'active'
          ${where.regionId ? sql`and c.region = ${where.regionId}` : sql``}
          ${where.clusterId ? sql`and c.id = ${where.clusterId}` : sql``}
          and exists (select 1 from gpus g where g.node_id = n.id and g.health = 'healthy'
            ${where.gpuModel ? sql`and upper(g.model) ~ ${modelPattern(where.gpuModel)}` : sql``})
        order by n.id`,
  );
  return rows.map((r) => {
    const report = typeof r.images === "string" ? (JSON.parse(r.images) as NodeImages) : r.images;
    return { nodeId: r.id, hostname: r.hostname, state: imageState(report, ref) };
  });
}

/** Nodes that may run the image: those that have it first, then those that may get it; empty: none can. */
export function nodesForImage(states: { nodeId: number; state: ImageState }[]): number[][] {
  const has = states.filter((s) => s.state === "present").map((s) => s.nodeId);
  const may = states.filter((s) => s.state === "pullable" || s.state === "unknown").map((s) => s.nodeId);
  return [has, may].filter((list) => list.length > 0);
}

const HOW_TO_FIX =
  "an operator loads it on a node (podman load -i image.tar, or docker load) or mirrors it to a registry the nodes reach " +
  "and points the catalog image's oci_ref at it (PATCH /api/v1/images/{id}); see docs/agent.md, " +
  '"Images on a host that cannot reach a registry"';

/** 409: no node that could take the work has its image, nor can pull it. */
export class ImageUnavailable extends ApiError {
  constructor(
    image: { id?: string | null; ref: string },
    where: string,
    states: { hostname: string; state: string }[],
  ) {
    const named = image.id ? `image '${image.id}' (${image.ref})` : `image ${image.ref}`;
    const nodesSaid = states.map((s) => `${s.hostname}: ${s.state === "failed" ? "pull failed" : "not present"}`);
    super(
      "CONFLICT",
      `${named} is on no node ${where} and none of them can pull it (${nodesSaid.join("; ")}): ${HOW_TO_FIX}`,
      { image: image.id ?? null, oci_ref: image.ref, nodes: states },
    );
  }
}

/** The reports of the clusters' active nodes, for the scheduler: cluster id → its nodes. */
export async function clusterImageReports(db: Executor, clusterIds: number[]) {
  const byCluster = new Map<number, { hostname: string; report: NodeImages | null }[]>();
  if (!clusterIds.length) return byCluster;
  const rows = await db
    .select({ clusterId: nodes.clusterId, hostname: nodes.hostname, images: nodes.images })
    .from(nodes)
    .where(and(inArray(nodes.clusterId, clusterIds), eq(nodes.status, "active")));
  for (const r of rows) {
    const list = byCluster.get(r.clusterId) ?? [];
    list.push({ hostname: r.hostname, report: r.images });
    byCluster.set(r.clusterId, list);
  }
  return byCluster;
}

/** The scheduler's reason for a job whose image no node of its cluster has or can pull; null when one may. */
export function jobImageBlock(
  clusterId: number,
  ref: string,
  reports: { hostname: string; report: NodeImages | null }[],
): string | null {
  const states = reports.map((r) => imageState(r.report, ref));
  if (!states.length || states.some((s) => s !== "missing" && s !== "failed")) return null;
  return `image: ${ref} is on no node of cluster ${clusterId} and none can pull it; ${HOW_TO_FIX}`;
}
