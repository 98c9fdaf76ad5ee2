import { z } from "@hono/zod-openapi";
import type { ProviderView } from "../../domain/providers/settings.js";
import { microsToUsd } from "../../lib/money.js";
import { upstreamNames } from "../../providers/upstream/types.js";

export const NameParam = z.object({ name: z.enum(upstreamNames).openapi({ param: { name: "name", in: "path" } }) });

const usd = z.string().regex(/^\d{1,6}(\.\d{1,6})?$/, "a dollar amount like 0.25");

/** Never a credential: the response schema is what leaves the server. */
export const Provider = z
  .object({
    name: z.enum(upstreamNames),
    configured: z.boolean(),
    paused: z.boolean(),
    ok: z.boolean().nullable(),
    last_error: z.string().nullable(),
    last_error_at: z.string().nullable(),
    last_ok_at: z.string().nullable(),
    markup_percent: z.string(),
    markup_fixed_usd: z.string(),
    orphan_grace_seconds: z.number().int(),
    provisioning_timeout_seconds: z.number().int(),
    allow_below_cost: z.boolean(),
  })
  .openapi("UpstreamProvider");

export const providerView = (p: ProviderView) => ({
  name: p.name,
  configured: p.configured,
  paused: p.paused,
  ok: p.ok,
  last_error: p.lastError,
  last_error_at: p.lastErrorAt?.toISOString() ?? null,
  last_ok_at: p.lastOkAt?.toISOString() ?? null,
  markup_percent: (p.markupBps / 100).toFixed(2),
  markup_fixed_usd: microsToUsd(p.markupFixedMicros),
  orphan_grace_seconds: p.orphanGraceSeconds,
  provisioning_timeout_seconds: p.provisioningTimeoutSeconds,
  allow_below_cost: p.allowBelowCost,
});

const percent = z
  .string()
  .regex(/^\d{1,4}(\.\d{1,2})?$/, "a percentage like 15 or 12.5")
  .transform((v) => Math.round(Number(v) * 100));

export const ProviderPatch = z
  .object({
    markup_percent: percent.optional(),
    markup_fixed_usd: usd.optional(),
    orphan_grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .optional(),
    provisioning_timeout_seconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .optional()
      .openapi({ description: "An instance still provisioning this long after launch is terminated and failed" }),
    allow_below_cost: z
      .boolean()
      .optional()
      .openapi({ description: "Keep region prices set below the upstream price plus markup (sells at a loss)" }),
  })
  .strict();

export const TypeMarkupBody = z
  .object({ markup_percent: percent.nullable(), markup_fixed_usd: usd.nullable() })
  .strict();

export const SyncResult = z
  .object({
    provider: z.string(),
    offers: z.number().int(),
    types_created: z.array(z.string()),
    regions_created: z.array(z.string()),
    prices_written: z.number().int(),
    prices_kept: z.number().int(),
    prices_raised: z.number().int(),
  })
  .openapi("UpstreamCatalogSync");

export const UpstreamOffer = z
  .object({
    provider: z.string(),
    upstream_type: z.string(),
    upstream_region: z.string(),
    instance_type: z.string(),
    region: z.string(),
    available: z.boolean(),
    upstream_price_per_hour: z.string(),
    price_per_hour: z.string().openapi({ description: "What a customer pays for the type in the region" }),
    target_price_per_hour: z.string().openapi({ description: "The upstream price plus the markup" }),
    margin_per_hour: z.string(),
    synced_at: z.string(),
  })
  .openapi("UpstreamOffer");

export const Orphan = z
  .object({
    provider: z.string(),
    kind: z.enum(["instance", "volume"]).openapi({
      description:
        "instance: a tagged upstream instance with no record (terminated after the grace); volume: an upstream volume no gpuplane volume or instance claims (an OS volume left by a delete, a detached disk), still charged by the cloud until the operator deletes it",
    }),
    upstream_id: z.string(),
    name: z.string(),
    upstream_status: z.string(),
    first_seen_at: z.string(),
    last_seen_at: z.string(),
    terminated_at: z.string().nullable(),
  })
  .openapi("UpstreamOrphan");

export const MarginsQuery = z.object({
  days: z.coerce.number().int().min(1).max(90).default(30).openapi({ description: "Lookback window, 1–90 days" }),
});

const MarginRow = z.object({
  provider: z.string(),
  instances: z.number().int(),
  seconds: z.number().int(),
  revenue_usd: z.string(),
  upstream_cost_usd: z.string(),
  margin_usd: z.string(),
});

const InstanceMarginRow = z.object({
  instance_id: z.string(),
  provider: z.string(),
  tenant_id: z.number().int(),
  seconds: z.number().int(),
  revenue_usd: z.string(),
  upstream_cost_usd: z.string(),
  margin_usd: z.string(),
});

export const Margins = z
  .object({
    days: z.number().int(),
    revenue_usd: z.string(),
    upstream_cost_usd: z.string(),
    margin_usd: z.string(),
    providers: z.array(MarginRow),
    instances: z
      .array(InstanceMarginRow)
      .openapi({ description: "Each resold instance charged in the window, its whole margin, worst first" }),
  })
  .openapi("ResaleMargins");
