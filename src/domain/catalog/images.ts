import { asc, eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { images } from "../../db/schema/index.js";
import { badRequest, conflict, notFound } from "../../lib/errors.js";
import { type Actor, audit, changes, snapshot } from "../audit/audit.js";
import { defaultImages, defaultUpstreamImages } from "./defaults.js";

export type ImageRow = typeof images.$inferSelect;

export async function listImages(ctx: AppContext, filter: { gpuModel?: string } = {}): Promise<ImageRow[]> {
  const rows = await ctx.db.select().from(images).where(eq(images.active, true)).orderBy(asc(images.id));
  return filter.gpuModel ? rows.filter((r) => r.compatibleGpus.includes(filter.gpuModel!)) : rows;
}

/** An active image by slug; `field` names what the caller sent ("image", "templateSlug"). */
export async function resolveImage(db: Executor, slug: string, field = "image"): Promise<ImageRow> {
  const [row] = await db.select().from(images).where(eq(images.id, slug));
  if (!row?.active) throw badRequest(`${field} '${slug}' is not an available image; see GET /api/v1/images`);
  return row;
}

export interface ImageInput {
  id: string;
  name: string;
  os: string;
  cudaVersion?: string | null;
  description?: string | null;
  compatibleGpus: string[];
  ociRef?: string | null;
  upstreamImages?: Record<string, string> | null;
}

/** The default catalog's container images, for rows that predate oci_ref or never set one. */
export function defaultOciRef(imageId: string): string | null {
  return defaultImages.find((i) => i.id === imageId)?.ociRef ?? null;
}

/** The image's per-cloud names as the operator set them, or the default catalog's where never set (null). */
export function upstreamImagesOf(image: Pick<ImageRow, "id" | "upstreamImages">): Record<string, string> {
  return image.upstreamImages ?? defaultUpstreamImages(image.id);
}

/**
 * What a resold cloud launches for an image: the operator's (or the default catalog's) mapping; for RunPod, which
 * runs any container image, else the image's container reference. Null: that cloud does not sell this image.
 */
export function upstreamImageFor(
  image: Pick<ImageRow, "id" | "upstreamImages" | "ociRef">,
  cloud: string,
): string | null {
  const mapped = upstreamImagesOf(image)[cloud];
  if (mapped) return mapped;
  return cloud === "runpod" ? (image.ociRef ?? defaultOciRef(image.id)) : null;
}

export async function createImage(ctx: AppContext, actor: Actor, input: ImageInput): Promise<ImageRow> {
  return ctx.db.transaction(async (tx) => {
    const rows = await tx
      .insert(images)
      .values({
        ...input,
        cudaVersion: input.cudaVersion ?? null,
        description: input.description ?? null,
        ociRef: input.ociRef ?? null,
        upstreamImages: input.upstreamImages ?? null,
      })
      .onConflictDoNothing()
      .returning();
    if (!rows.length) throw conflict(`image '${input.id}' already exists`);
    await audit(tx, actor, {
      action: "image.create",
      target: `image:${input.id}`,
      tenantId: null,
      after: snapshot(rows[0]),
    });
    return rows[0];
  });
}

export async function updateImage(
  ctx: AppContext,
  actor: Actor,
  id: string,
  patch: Partial<Omit<ImageInput, "id">> & { active?: boolean },
): Promise<ImageRow> {
  return ctx.db.transaction(async (tx) => {
    const [before] = await tx.select().from(images).where(eq(images.id, id)).for("update");
    if (!before) throw notFound("image");
    const [row] = await tx.update(images).set(patch).where(eq(images.id, id)).returning();
    await audit(tx, actor, {
      action: "image.update",
      target: `image:${id}`,
      tenantId: null,
      ...changes(snapshot(before), snapshot(row)),
    });
    return row;
  });
}
