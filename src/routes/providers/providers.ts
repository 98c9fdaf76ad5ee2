import { z } from "@hono/zod-openapi";
import { resaleMargins } from "../../domain/dashboard/margins.js";
import { syncUpstreamCatalog } from "../../domain/providers/catalog-sync.js";
import {
  listOrphans,
  listProviders,
  listUpstreamOffers,
  updateOfferMarkup,
  updateProvider,
} from "../../domain/providers/settings.js";
import { createRoute, operator } from "../../http/access.js";
import { appCtx, auditActor, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { microsToUsd, usdToMicros } from "../../lib/money.js";
import {
  Margins,
  MarginsQuery,
  NameParam,
  Orphan,
  Provider,
  ProviderPatch,
  providerView,
  SyncResult,
  TypeMarkupBody,
  UpstreamOffer,
} from "./schemas.js";

export const providerRoutes = router();
const tags = ["Providers"];

providerRoutes.openapi(
  createRoute({
    method: "get",
    path: "/providers",
    access: operator("read"),
    tags,
    summary: "Resold clouds (Verda, Lambda, RunPod): configured or not, health, last error, markup (operator)",
    responses: { 200: jsonResponse(envelope(z.array(Provider)), "Providers"), ...commonErrors },
  }),
  async (c) => {
    return ok(c, z.array(Provider), (await listProviders(appCtx(c))).map(providerView), 200);
  },
);

providerRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/providers/{name}",
    access: operator("admin"),
    tags,
    summary:
      "Set a provider's markup (percent and/or fixed per hour), orphan grace period, provisioning timeout and whether prices below cost are allowed (operator)",
    request: { params: NameParam, ...jsonBody(ProviderPatch) },
    responses: { 200: jsonResponse(envelope(Provider), "Updated"), ...commonErrors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const view = await updateProvider(appCtx(c), auditActor(c), c.req.valid("param").name, {
      ...(body.markup_percent !== undefined && { markupBps: body.markup_percent }),
      ...(body.markup_fixed_usd !== undefined && { markupFixedMicros: usdToMicros(body.markup_fixed_usd) }),
      ...(body.orphan_grace_seconds !== undefined && { orphanGraceSeconds: body.orphan_grace_seconds }),
      ...(body.provisioning_timeout_seconds !== undefined && {
        provisioningTimeoutSeconds: body.provisioning_timeout_seconds,
      }),
      ...(body.allow_below_cost !== undefined && { allowBelowCost: body.allow_below_cost }),
    });
    return ok(c, Provider, providerView(view), 200);
  },
);

providerRoutes.openapi(
  createRoute({
    method: "put",
    path: "/providers/{name}/types/{upstream_type}/markup",
    access: operator("admin"),
    tags,
    summary: "Set (or clear with nulls) the markup of one upstream type; applied at the next sync (operator)",
    request: {
      params: NameParam.extend({ upstream_type: z.string().min(1).max(200) }),
      ...jsonBody(TypeMarkupBody),
    },
    responses: { 200: jsonResponse(envelope(z.object({ offers: z.number().int() })), "Updated"), ...commonErrors },
  }),
  async (c) => {
    const { name, upstream_type } = c.req.valid("param");
    const body = c.req.valid("json");
    const offers = await updateOfferMarkup(
      appCtx(c),
      name,
      upstream_type,
      {
        markupBps: body.markup_percent,
        markupFixedMicros: body.markup_fixed_usd === null ? null : usdToMicros(body.markup_fixed_usd),
      },
      auditActor(c),
    );
    return ok(c, z.object({ offers: z.number().int() }), { offers }, 200);
  },
);

providerRoutes.openapi(
  createRoute({
    method: "post",
    path: "/providers/{name}/sync",
    access: operator("admin"),
    tags,
    summary: "Sync a provider's catalog: types, locations, prices with markup; operator-edited prices are kept",
    request: { params: NameParam },
    responses: { 200: jsonResponse(envelope(SyncResult), "Synced"), ...commonErrors },
  }),
  async (c) => {
    const r = await syncUpstreamCatalog(appCtx(c), c.req.valid("param").name);
    return ok(
      c,
      SyncResult,
      {
        provider: r.provider,
        offers: r.offers,
        types_created: r.typesCreated,
        regions_created: r.regionsCreated,
        prices_written: r.pricesWritten,
        prices_kept: r.pricesKept,
        prices_raised: r.pricesRaised,
      },
      200,
    );
  },
);

providerRoutes.openapi(
  createRoute({
    method: "get",
    path: "/providers/offers",
    access: operator("read"),
    tags,
    summary: "Upstream offers with upstream price, sell price and margin per hour (operator)",
    responses: { 200: jsonResponse(envelope(z.array(UpstreamOffer)), "Offers"), ...commonErrors },
  }),
  async (c) => {
    const offers = await listUpstreamOffers(appCtx(c));
    const data = offers.map((o) => ({
      provider: o.provider,
      upstream_type: o.upstreamType,
      upstream_region: o.upstreamRegion,
      instance_type: o.instanceTypeId,
      region: o.regionId,
      available: o.available > 0,
      upstream_price_per_hour: microsToUsd(o.upstreamPriceMicros),
      price_per_hour: microsToUsd(o.sellPriceMicros),
      target_price_per_hour: microsToUsd(o.targetPriceMicros),
      margin_per_hour: microsToUsd(o.marginMicros),
      synced_at: o.syncedAt.toISOString(),
    }));
    return ok(c, z.array(UpstreamOffer), data, 200);
  },
);

providerRoutes.openapi(
  createRoute({
    method: "get",
    path: "/providers/orphans",
    access: operator("read"),
    tags,
    summary:
      "What a resold cloud charges for that gpuplane no longer sells: tagged instances with no record (terminated after the grace) and unclaimed volumes (operator)",
    request: { query: z.object({ open: z.enum(["true", "false"]).optional() }) },
    responses: { 200: jsonResponse(envelope(z.array(Orphan)), "Orphans"), ...commonErrors },
  }),
  async (c) => {
    const rows = await listOrphans(appCtx(c), c.req.valid("query").open === "true");
    const data = rows.map((o) => ({
      provider: o.provider,
      kind: o.kind as "instance" | "volume",
      upstream_id: o.upstreamId,
      name: o.name,
      upstream_status: o.upstreamStatus,
      first_seen_at: o.firstSeenAt.toISOString(),
      last_seen_at: o.lastSeenAt.toISOString(),
      terminated_at: o.terminatedAt?.toISOString() ?? null,
    }));
    return ok(c, z.array(Orphan), data, 200);
  },
);

providerRoutes.openapi(
  createRoute({
    method: "get",
    path: "/dashboard/margins",
    access: operator("read"),
    tags: ["Dashboard"],
    summary:
      "Margin on resold clouds per provider and per instance: revenue, upstream cost for the same seconds, margin (operator)",
    request: { query: MarginsQuery },
    responses: { 200: jsonResponse(envelope(Margins), "Margins"), ...commonErrors },
  }),
  async (c) => {
    const m = await resaleMargins(appCtx(c), c.req.valid("query").days);
    return ok(
      c,
      Margins,
      {
        days: m.days,
        revenue_usd: microsToUsd(m.revenueMicros),
        upstream_cost_usd: microsToUsd(m.upstreamCostMicros),
        margin_usd: microsToUsd(m.marginMicros),
        providers: m.providers.map((p) => ({
          provider: p.provider,
          instances: p.instances,
          seconds: p.seconds,
          revenue_usd: microsToUsd(p.revenueMicros),
          upstream_cost_usd: microsToUsd(p.upstreamCostMicros),
          margin_usd: microsToUsd(p.marginMicros),
        })),
        instances: m.instances.map((i) => ({
          instance_id: i.instanceId,
          provider: i.provider,
          tenant_id: i.tenantId,
          seconds: i.seconds,
          revenue_usd: microsToUsd(i.revenueMicros),
          upstream_cost_usd: microsToUsd(i.upstreamCostMicros),
          margin_usd: microsToUsd(i.marginMicros),
        })),
      },
      200,
    );
  },
);
