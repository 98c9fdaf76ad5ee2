import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { bindCursor } from "./pagination.js";

/** `{ code: "OK", data }` — the response schema decides what leaves the server. */
export const envelope = <T extends z.ZodType>(data: T) => z.object({ code: z.literal("OK"), data });

export const PageMeta = z
  .object({
    total: z.number().int(),
    cursor: z.string().nullable(),
    has_more: z.boolean(),
  })
  .openapi("PageMeta");

export const listEnvelope = <T extends z.ZodType>(item: T) =>
  z.object({ code: z.literal("OK"), data: z.array(item), meta: PageMeta });

export const ErrorBody = z
  .object({
    code: z.string().openapi({ example: "BAD_REQUEST" }),
    error: z.string().openapi({ example: "cluster_type is required" }),
    request_id: z.string().optional(),
  })
  .passthrough()
  .openapi("Error");

/**
 * Serialises `data` through `schema` (dropping anything it does not declare) into the success envelope.
 * `data` is checked at run time by the schema, so views may hand over wider types (a DB string for an enum).
 */
export function ok<T extends z.ZodType, S extends ContentfulStatusCode = 200>(
  c: Context,
  schema: T,
  data: unknown,
  status?: S,
) {
  return c.json({ code: "OK" as const, data: schema.parse(data) as z.output<T> }, (status ?? 200) as S);
}

export function okList<T extends z.ZodType>(
  c: Context,
  schema: T,
  page: { items: unknown[]; total: number; cursor: string | null; hasMore: boolean },
) {
  return c.json(
    {
      code: "OK" as const,
      data: page.items.map((item) => schema.parse(item) as z.output<T>),
      meta: { total: page.total, cursor: bindCursor(page.cursor, c.req.routePath), has_more: page.hasMore },
    },
    200,
  );
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorBody } },
});

/** The error responses every authenticated route may give, for the OpenAPI document. */
export const commonErrors = {
  400: errorResponse("Invalid request: the message names the field"),
  401: errorResponse("Missing or invalid API key"),
  403: errorResponse("The key lacks the scope or permission"),
  404: errorResponse("Not found (also another tenant's resource)"),
  429: errorResponse("Rate limited; see Retry-After"),
} as const;

export const errorResponses = {
  402: errorResponse("Balance below the minimum required"),
  409: errorResponse("Conflict: state, capacity or idempotency"),
  422: errorResponse("Idempotency-Key reused with a different request"),
  503: errorResponse("A service this needs is not configured (e.g. Stripe)"),
} as const;

export const jsonBody = <T extends z.ZodType>(schema: T, required = true) => ({
  body: { required, content: { "application/json": { schema } } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
