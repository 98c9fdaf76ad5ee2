import { and, count, desc, eq, lt } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { type ContainerEnvVar, type DeclaredPort, launchTemplates } from "../../db/schema/index.js";
import { type PageQuery, paginate } from "../../http/pagination.js";
import { badRequest, conflict, notFound } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { resolveImage } from "../catalog/images.js";
import { assertImageAllowed, type ContainerSettings, checkContainerSettings } from "../instances/container.js";

export type LaunchTemplateRow = typeof launchTemplates.$inferSelect;

/** An env entry as sent: a secret's value may be left out on an update to keep the stored one. */
export interface EnvInput {
  name: string;
  value?: string | null;
  secret?: boolean;
}

export interface LaunchTemplateInput {
  name: string;
  /** An own OCI image reference; or else `templateSlug`, a catalog image. Exactly one. */
  image?: string | null;
  templateSlug?: string | null;
  instanceType?: string | null;
  env?: EnvInput[];
  command?: string[] | null;
  diskGb?: number | null;
  ports?: DeclaredPort[];
}

/**
 * Env entries as stored: a value is required, except a secret entry on an update, which keeps the value stored under
 * its name (the API never returns a secret's value, so a client editing a template cannot send it back).
 */
export function storedEnv(input: EnvInput[], previous: ContainerEnvVar[] = [], field = "env"): ContainerEnvVar[] {
  return input.map((v) => {
    const secret = v.secret === true;
    if (v.value !== undefined && v.value !== null) return { name: v.name, value: v.value, secret };
    const kept = secret ? previous.find((p) => p.name === v.name && p.secret) : undefined;
    if (!kept) throw badRequest(`${field}: ${v.name} needs a value`);
    return { name: v.name, value: kept.value, secret };
  });
}

async function checkImage(ctx: AppContext, image: string | null, slug: string | null) {
  if (Boolean(image) === Boolean(slug)) {
    throw badRequest("give exactly one of image (your own OCI image reference) and template_slug (a catalog image)");
  }
  if (image) assertImageAllowed(ctx.config, image, "image");
  else await resolveImage(ctx.db, slug!, "template_slug");
}

export async function createLaunchTemplate(
  ctx: AppContext,
  tenantId: number,
  input: LaunchTemplateInput,
): Promise<LaunchTemplateRow> {
  const image = input.image ?? null;
  const templateSlug = input.templateSlug ?? null;
  await checkImage(ctx, image, templateSlug);
  const env = storedEnv(input.env ?? []);
  checkContainerSettings({ env, ports: input.ports, command: input.command, diskGb: input.diskGb }, null);
  const now = ctx.clock.now();
  const rows = await ctx.db
    .insert(launchTemplates)
    .values({
      id: newId("ltpl"),
      tenantId,
      name: input.name,
      image,
      templateSlug,
      instanceType: input.instanceType ?? null,
      env,
      command: input.command?.length ? input.command : null,
      diskGb: input.diskGb ?? null,
      ports: input.ports ?? [],
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning();
  if (!rows.length) throw conflict(`a launch template named '${input.name}' already exists`);
  return rows[0];
}

export async function listLaunchTemplates(ctx: AppContext, tenantId: number | null, query: PageQuery) {
  const scope = tenantId === null ? undefined : eq(launchTemplates.tenantId, tenantId);
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select()
        .from(launchTemplates)
        .where(and(scope, after !== undefined ? lt(launchTemplates.id, String(after)) : undefined))
        .orderBy(desc(launchTemplates.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(launchTemplates).where(scope))[0].n,
  );
}

/** Another tenant's template is a 404. `tenantId` null = an operator. */
export async function getLaunchTemplate(
  ctx: AppContext,
  tenantId: number | null,
  id: string,
): Promise<LaunchTemplateRow> {
  const [row] = await ctx.db.select().from(launchTemplates).where(eq(launchTemplates.id, id));
  if (!row || (tenantId !== null && row.tenantId !== tenantId)) throw notFound("launch template");
  return row;
}

/** Replaces the fields given; `env` replaces the whole list (a secret sent without a value keeps its stored one). */
export async function updateLaunchTemplate(
  ctx: AppContext,
  tenantId: number | null,
  id: string,
  patch: Partial<LaunchTemplateInput>,
): Promise<LaunchTemplateRow> {
  const row = await getLaunchTemplate(ctx, tenantId, id);
  const imageGiven = patch.image !== undefined || patch.templateSlug !== undefined;
  const image = patch.image !== undefined ? patch.image : patch.templateSlug ? null : row.image;
  const templateSlug = patch.templateSlug !== undefined ? patch.templateSlug : patch.image ? null : row.templateSlug;
  if (imageGiven) await checkImage(ctx, image, templateSlug);
  const env = patch.env ? storedEnv(patch.env, row.env) : row.env;
  const next = {
    name: patch.name ?? row.name,
    image,
    templateSlug,
    instanceType: patch.instanceType !== undefined ? patch.instanceType : row.instanceType,
    env,
    command: patch.command !== undefined ? (patch.command?.length ? patch.command : null) : row.command,
    diskGb: patch.diskGb !== undefined ? patch.diskGb : row.diskGb,
    ports: patch.ports ?? row.ports,
  };
  checkContainerSettings(next, null);
  try {
    const [updated] = await ctx.db
      .update(launchTemplates)
      .set({ ...next, updatedAt: ctx.clock.now() })
      .where(eq(launchTemplates.id, row.id))
      .returning();
    return updated;
  } catch (error) {
    if (/launch_templates_tenant_name/.test(String((error as { cause?: unknown }).cause ?? error))) {
      throw conflict(`a launch template named '${next.name}' already exists`);
    }
    throw error;
  }
}

export async function deleteLaunchTemplate(ctx: AppContext, tenantId: number | null, id: string) {
  const row = await getLaunchTemplate(ctx, tenantId, id);
  await ctx.db.delete(launchTemplates).where(eq(launchTemplates.id, row.id));
  return row;
}

/**
 * A create request filled in from a template: what the request gives wins; env is merged by name (the request's entry
 * replaces the template's of the same name).
 */
export function withTemplate(
  template: LaunchTemplateRow,
  request: { image?: string; templateSlug?: string; instanceType?: string; container: ContainerSettings },
) {
  const ownImage = request.container.imageRef ?? (request.templateSlug ? null : template.image);
  const env = [...template.env.filter((t) => !(request.container.env ?? []).some((r) => r.name === t.name))];
  env.push(...(request.container.env ?? []));
  return {
    instanceType: request.instanceType ?? template.instanceType ?? undefined,
    templateSlug: ownImage ? undefined : (request.templateSlug ?? template.templateSlug ?? undefined),
    container: {
      imageRef: ownImage,
      env,
      command: request.container.command ?? template.command,
      diskGb: request.container.diskGb ?? template.diskGb,
      ports: request.container.ports?.length ? request.container.ports : template.ports,
    },
  };
}
