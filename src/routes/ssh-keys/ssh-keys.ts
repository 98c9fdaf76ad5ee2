import { z } from "@hono/zod-openapi";
import { createSshKey, deleteSshKey, getSshKey, listSshKeys, type SshKeyRow } from "../../domain/ssh-keys/keys.js";
import { actingFor, createRoute, listTenant, tenant, tenantScope } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import {
  commonErrors,
  envelope,
  errorResponses,
  jsonBody,
  jsonResponse,
  listEnvelope,
  ok,
  okList,
} from "../../http/envelope.js";
import { PageQuery } from "../../http/pagination.js";
import { int32, safeName, urlInt } from "../../lib/schemas.js";

export const SshKey = z
  .object({
    id: z.string(),
    name: z.string(),
    public_key: z.string(),
    key_type: z.string().openapi({ example: "ssh-ed25519" }),
    bits: z.number().int().nullable(),
    fingerprint: z.string().openapi({ example: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" }),
    created_at: z.string(),
  })
  .openapi("SshKey");

const view = (k: SshKeyRow) => ({
  id: k.id,
  name: k.name,
  public_key: k.publicKey,
  key_type: k.keyType,
  bits: k.bits,
  fingerprint: k.fingerprint,
  created_at: k.createdAt.toISOString(),
});

const CreateSshKey = z
  .object({
    name: safeName(200).openapi({ example: "my-laptop" }),
    public_key: z.string().min(1).max(16_384).openapi({ example: "ssh-ed25519 AAAA... user@host" }),
    tenant_id: int32().optional().openapi({ description: "Operators: the tenant to add it to" }),
  })
  .strict()
  .openapi("CreateSshKey");

const Id = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});
const tags = ["SSH Keys"];
export const sshKeyRoutes = router();

sshKeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/ssh-keys",
    access: tenant("ssh-keys", "write"),
    tags,
    summary: "Upload an SSH public key (ed25519, ECDSA, or RSA of at least 2048 bits)",
    request: jsonBody(CreateSshKey),
    responses: { 201: jsonResponse(envelope(SshKey), "Created"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const row = await createSshKey(appCtx(c), actingFor(c, body.tenant_id), {
      name: body.name,
      publicKey: body.public_key,
    });
    return ok(c, SshKey, view(row), 201);
  },
);

sshKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/ssh-keys",
    access: tenant("ssh-keys", "read"),
    tags,
    summary: "List SSH keys",
    request: {
      query: PageQuery.extend({
        tenant_id: urlInt().optional().openapi({ description: "Operator keys: one tenant's" }),
      }),
    },
    responses: { 200: jsonResponse(listEnvelope(SshKey), "SSH keys"), ...commonErrors },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const page = await listSshKeys(appCtx(c), listTenant(c, query.tenant_id), query);
    return okList(c, SshKey, { ...page, items: page.items.map(view) });
  },
);

sshKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/ssh-keys/{id}",
    access: tenant("ssh-keys", "read"),
    tags,
    summary: "Get an SSH key",
    request: { params: Id },
    responses: { 200: jsonResponse(envelope(SshKey), "SSH key"), ...commonErrors },
  }),
  async (c) => {
    const row = await getSshKey(appCtx(c), tenantScope(c), c.req.valid("param").id);
    return ok(c, SshKey, view(row));
  },
);

sshKeyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/ssh-keys/{id}",
    access: tenant("ssh-keys", "write"),
    tags,
    summary: "Delete an SSH key (instances already deployed keep it)",
    request: { params: Id },
    responses: { 200: jsonResponse(envelope(SshKey), "Deleted"), ...commonErrors },
  }),
  async (c) => {
    const row = await deleteSshKey(appCtx(c), tenantScope(c), c.req.valid("param").id);
    return ok(c, SshKey, view(row));
  },
);
