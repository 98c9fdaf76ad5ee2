import { sql } from "drizzle-orm";
import { boolean, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { createdAt, micros } from "./columns.js";

export const regions = pgTable("regions", {
  id: text("id").primaryKey(), // "FIN-01", "us-east-1"
  name: text("name").notNull(),
  country: text("country"),
  active: boolean("active").notNull().default(true),
  createdAt: createdAt(),
});

/** GPU model x count with its shape and price. Answers to several ids through `instance_type_aliases`. */
export const instanceTypes = pgTable("instance_types", {
  id: text("id").primaryKey(), // canonical: "h100-80gb-1x"
  name: text("name").notNull(),
  gpuModel: text("gpu_model").notNull(), // "H100"
  gpuMemoryGb: integer("gpu_memory_gb").notNull(),
  /** SXM, PCIe or NVL (null: not said). Resold offers map onto a type only with the same model, memory and form. */
  gpuFormFactor: text("gpu_form_factor"),
  gpuCount: integer("gpu_count").notNull(),
  vcpus: integer("vcpus").notNull(),
  ramGb: integer("ram_gb").notNull(),
  diskGb: integer("disk_gb").notNull(),
  pricePerHourMicros: micros("price_per_hour_micros").notNull(),
  /** 1 = per-second billing, 60 = per-minute billing. */
  billingGranularitySeconds: integer("billing_granularity_seconds").notNull().default(1),
  /** Smallest charge for one run of an instance of this type, in micro-dollars (0 = none). */
  minimumChargeMicros: micros("minimum_charge_micros").notNull().default(sql`0`),
  active: boolean("active").notNull().default(true),
  createdAt: createdAt(),
});

export const instanceTypeAliases = pgTable("instance_type_aliases", {
  alias: text("alias").primaryKey(), // "GPU.H100.1x", "1H100.80S.30V"
  instanceTypeId: text("instance_type_id")
    .notNull()
    .references(() => instanceTypes.id, { onDelete: "cascade" }),
  kind: text("kind").notNull(), // "plan" | "cluster_type"
});

/** Optional per-region price; where absent the type's own price applies. */
export const instanceTypeRegionPrices = pgTable(
  "instance_type_region_prices",
  {
    instanceTypeId: text("instance_type_id")
      .notNull()
      .references(() => instanceTypes.id, { onDelete: "cascade" }),
    regionId: text("region_id")
      .notNull()
      .references(() => regions.id, { onDelete: "cascade" }),
    pricePerHourMicros: micros("price_per_hour_micros").notNull(),
  },
  (t) => [primaryKey({ columns: [t.instanceTypeId, t.regionId] })],
);

/** OS images; the 000 seed calls them templates and addresses them by slug. */
export const images = pgTable("images", {
  id: text("id").primaryKey(), // slug: "pytorch-cuda", "ubuntu-22.04-cuda-12.4-cluster"
  name: text("name").notNull(),
  os: text("os").notNull(),
  cudaVersion: text("cuda_version"),
  description: text("description"),
  compatibleGpus: text("compatible_gpus").array().notNull(),
  /** The container image a fleet node runs for it (podman/docker reference); null = the agent's own default. */
  ociRef: text("oci_ref"),
  /**
   * What each resold cloud launches for it, by cloud: `{"verda": "ubuntu-22.04-cuda-12.4-docker", "lambda":
   * "lambda-stack-22-04", "runpod": "runpod/pytorch:…"}` (Verda's image_type, Lambda's image family, RunPod's image
   * name). A cloud missing here launches its own default image, and the instance says so.
   */
  upstreamImages: jsonb("upstream_images").$type<Record<string, string>>(),
  active: boolean("active").notNull().default(true),
  createdAt: createdAt(),
});
