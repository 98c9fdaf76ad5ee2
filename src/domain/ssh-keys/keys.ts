import { and, count, desc, eq, inArray, lt } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { sshKeys } from "../../db/schema/index.js";
import { type PageQuery, paginate } from "../../http/pagination.js";
import { badRequest, conflict, notFound } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { parsePublicKey } from "./parse.js";

export type SshKeyRow = typeof sshKeys.$inferSelect;

/** Stores a tenant's public key after parsing it for real; the same key twice in one tenant is a 409. */
export async function createSshKey(
  ctx: AppContext,
  tenantId: number,
  input: { name: string; publicKey: string },
): Promise<SshKeyRow> {
  const parsed = parsePublicKey(input.publicKey);
  const rows = await ctx.db
    .insert(sshKeys)
    .values({
      id: newId("ssh"),
      tenantId,
      name: input.name,
      publicKey: parsed.normalized,
      keyType: parsed.keyType,
      bits: parsed.bits,
      fingerprint: parsed.fingerprint,
      createdAt: ctx.clock.now(),
    })
    .onConflictDoNothing()
    .returning();
  if (!rows.length) {
    const [existing] = await ctx.db
      .select({ id: sshKeys.id, name: sshKeys.name })
      .from(sshKeys)
      .where(and(eq(sshKeys.tenantId, tenantId), eq(sshKeys.fingerprint, parsed.fingerprint)));
    throw conflict(
      `this SSH key (${parsed.fingerprint}) is already uploaded as '${existing?.name}' (${existing?.id})`,
      existing ? { ssh_key_id: existing.id } : undefined,
    );
  }
  return rows[0];
}

export async function listSshKeys(ctx: AppContext, tenantId: number | null, query: PageQuery) {
  const scope = tenantId === null ? undefined : eq(sshKeys.tenantId, tenantId);
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select()
        .from(sshKeys)
        .where(and(scope, after !== undefined ? lt(sshKeys.id, String(after)) : undefined))
        .orderBy(desc(sshKeys.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(sshKeys).where(scope))[0].n,
  );
}

/** Another tenant's key is a 404, never a 403. `tenantId` null = an operator, who sees every key. */
export async function getSshKey(ctx: AppContext, tenantId: number | null, id: string): Promise<SshKeyRow> {
  const [row] = await ctx.db.select().from(sshKeys).where(eq(sshKeys.id, id));
  if (!row || (tenantId !== null && row.tenantId !== tenantId)) throw notFound("SSH key");
  return row;
}

/** Deleting a key does not touch running instances: their keys were copied in at deploy time. */
export async function deleteSshKey(ctx: AppContext, tenantId: number | null, id: string): Promise<SshKeyRow> {
  const row = await getSshKey(ctx, tenantId, id);
  await ctx.db.delete(sshKeys).where(eq(sshKeys.id, row.id));
  return row;
}

/** The tenant's keys by id, all of them or a 400 naming the one that is missing. */
export async function tenantKeysById(
  db: Executor,
  tenantId: number,
  ids: string[],
  field = "ssh_key_ids",
): Promise<SshKeyRow[]> {
  const unique = [...new Set(ids)];
  const rows = unique.length
    ? await db
        .select()
        .from(sshKeys)
        .where(and(eq(sshKeys.tenantId, tenantId), inArray(sshKeys.id, unique)))
    : [];
  const missing = unique.find((id) => !rows.some((r) => r.id === id));
  if (missing) throw badRequest(`${field}: SSH key '${missing}' not found; upload it with POST /api/v1/ssh-keys`);
  return unique.map((id) => rows.find((r) => r.id === id)!);
}
