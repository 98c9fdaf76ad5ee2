import { sql } from "drizzle-orm";
import { boolean, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, micros, tstz } from "./columns.js";
import { instances } from "./customer.js";

/**
 * One row per upstream cloud the operator resells (verda, lambda, runpod): its markup and its health. Credentials
 * are not here: they come from the environment (or the operator API, kept in memory), and never leave the server.
 */
export const upstreamProviders = pgTable("upstream_providers", {
  name: text("name").primaryKey(),
  /** Markup on the upstream's hourly price: basis points (1500 = 15 %) plus a fixed amount per hour. */
  markupBps: integer("markup_bps").notNull().default(0),
  markupFixedMicros: micros("markup_fixed_micros").notNull().default(sql`0`),
  /** How long an orphan (a tagged upstream instance with no gpuplane record) lives before it is terminated. */
  orphanGraceSeconds: integer("orphan_grace_seconds").notNull().default(3600),
  /** An instance still provisioning this long after its launch is terminated upstream and failed (never billed). */
  provisioningTimeoutSeconds: integer("provisioning_timeout_seconds").notNull().default(1200),
  /** The operator's explicit consent to sell below the upstream's price plus markup (a price they set is kept). */
  allowBelowCost: boolean("allow_below_cost").notNull().default(false),
  lastError: text("last_error"),
  lastErrorAt: tstz("last_error_at"),
  lastOkAt: tstz("last_ok_at"),
  createdAt: createdAt(),
});

/**
 * What the catalog sync found: an upstream type in an upstream location, sold as a gpuplane type in a gpuplane region.
 * `syncedSellPriceMicros` is the region price the sync last wrote; if the region price differs now, the operator
 * edited it and the sync leaves it alone.
 */
export const upstreamOffers = pgTable(
  "upstream_offers",
  {
    provider: text("provider").notNull(),
    upstreamType: text("upstream_type").notNull(),
    upstreamRegion: text("upstream_region").notNull(),
    instanceTypeId: text("instance_type_id").notNull(),
    regionId: text("region_id").notNull(),
    upstreamPriceMicros: micros("upstream_price_micros").notNull(),
    /** Per-type markup; null = the provider's. */
    markupBps: integer("markup_bps"),
    markupFixedMicros: micros("markup_fixed_micros"),
    syncedSellPriceMicros: micros("synced_sell_price_micros"),
    available: integer("available").notNull().default(0),
    syncedAt: tstz("synced_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.upstreamType, t.upstreamRegion] })],
);

/**
 * The provisioning plan of an upstream-backed instance: the offers it may use (cheapest first), which one is next,
 * the claim lease of the provisioning worker, and what the chosen upstream charges.
 */
export const upstreamLaunches = pgTable("upstream_launches", {
  instanceId: text("instance_id")
    .primaryKey()
    .references(() => instances.id, { onDelete: "cascade" }),
  /** [{provider, upstreamType, upstreamRegion, regionId, upstreamPriceMicros}] */
  candidates: jsonb("candidates").notNull(),
  nextCandidate: integer("next_candidate").notNull().default(0),
  attempts: integer("attempts").notNull().default(0),
  /** A claim by a provisioning worker; another claims it only after this passes (its holder crashed). */
  leaseUntil: tstz("lease_until"),
  /** Failures on the way (capacity refusals, errors), for the reason a failed instance shows. */
  tried: jsonb("tried").notNull().default([]),
  upstreamCostPerHourMicros: micros("upstream_cost_per_hour_micros"),
  /** The cloud's billing increment in seconds (its billing rule at launch): the upstream cost is rounded to it. */
  costIncrementSeconds: integer("cost_increment_seconds").notNull().default(1),
  /**
   * When the cloud's charge for it began, as far as gpuplane can bound it: the first claim of the launch that created
   * it (before the create call, so never after the cloud's own start); a billing rule starting at launch bills from
   * here once it runs.
   */
  launchedAt: tstz("launched_at"),
  /** The first claim of the current launch sequence (reset when a waitlisted order starts over). */
  firstClaimedAt: tstz("first_claimed_at"),
  /** The last reconciliation pass that saw it alive upstream: a lost instance is billed up to here, not further. */
  lastSeenAt: tstz("last_seen_at"),
  /** Go to the waitlist rather than fail when every offer refuses. */
  waitlist: integer("waitlist").notNull().default(0),
});

/**
 * What a resold cloud keeps charging for that gpuplane no longer sells. `instance`: an upstream instance carrying
 * gpuplane's tag with no live record, alerted, then terminated after grace. `volume`: an upstream volume no live
 * gpuplane volume or instance claims (an OS volume a delete left, a detached disk), alerted; `terminated_at` is set
 * when the cloud no longer lists it.
 */
export const upstreamOrphans = pgTable(
  "upstream_orphans",
  {
    provider: text("provider").notNull(),
    kind: text("kind").notNull().default("instance"), // "instance" | "volume"
    upstreamId: text("upstream_id").notNull(),
    name: text("name").notNull(),
    upstreamStatus: text("upstream_status").notNull(),
    firstSeenAt: tstz("first_seen_at").notNull(),
    lastSeenAt: tstz("last_seen_at").notNull(),
    terminatedAt: tstz("terminated_at"),
  },
  (t) => [uniqueIndex("upstream_orphans_key").on(t.provider, t.upstreamId)],
);
