import { z } from "@hono/zod-openapi";
import { defaultOciRef, type ImageRow, upstreamImagesOf } from "../../domain/catalog/images.js";
import type { Offer } from "../../domain/catalog/offers.js";
import type { RegionRow } from "../../domain/catalog/regions.js";
import { clusterType, type InstanceType, planId } from "../../domain/catalog/types.js";
import { microsToUsd, microsToUsdNumber } from "../../lib/money.js";

export const Region = z
  .object({
    id: z.string().openapi({ example: "FIN-01" }),
    code: z.string().openapi({ example: "FIN-01" }),
    name: z.string(),
    country: z.string().nullable(),
    active: z.boolean(),
  })
  .openapi("Region");

export const regionView = (r: RegionRow) => ({ ...r, code: r.id });

/**
 * A container image reference as podman and docker take it ("docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04",
 * "localhost/x@sha256:…"). It reaches the runtime's argv: no spaces, and never a leading "-" that would read as a flag.
 */
export const OciRef = z
  .string()
  .min(1)
  .max(255)
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$/,
    "must be a container image reference such as docker.io/library/ubuntu:22.04",
  )
  .openapi({ example: "docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04" });

export const Image = z
  .object({
    id: z.string().openapi({ example: "ubuntu-22.04-cuda-12.4-cluster" }),
    slug: z.string().openapi({ example: "pytorch-cuda" }),
    name: z.string(),
    os: z.string(),
    cuda_version: z.string().nullable(),
    description: z.string().nullable(),
    compatible_gpus: z.array(z.string()),
    oci_ref: z.string().nullable().openapi({ description: "The container image fleet nodes run for it" }),
    upstream_images: z.record(z.string(), z.string()).openapi({
      description:
        "What each resold cloud launches for it (verda: image_type, lambda: image family, runpod: image name, e2e: image); a cloud missing here does not sell it (RunPod falls back to oci_ref)",
      example: { verda: "ubuntu-22.04-cuda-12.4-docker", lambda: "lambda-stack-22-04" },
    }),
    active: z.boolean(),
  })
  .openapi("Image");

/** A cloud's image name: Verda's image_type or image id, Lambda's image family. */
const CloudImageName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, "must be the cloud's image name, e.g. ubuntu-22.04-cuda-12.4-docker");

/** Operator input: the per-cloud image names (null: back to the default catalog's). */
export const UpstreamImages = z
  .object({
    verda: CloudImageName.optional().openapi({ example: "ubuntu-22.04-cuda-12.4-docker" }),
    lambda: CloudImageName.optional().openapi({ example: "lambda-stack-22-04" }),
    runpod: OciRef.optional().openapi({ example: "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04" }),
    e2e: CloudImageName.optional().openapi({ example: "Ubuntu-22.04-Distro" }),
  })
  .strict()
  .openapi("UpstreamImages", {
    description:
      "What each resold cloud launches for this image, replacing the whole map; a cloud left out does not sell the image (RunPod falls back to oci_ref); null: the default catalog's",
  });

export const imageView = (i: ImageRow) => ({
  id: i.id,
  slug: i.id,
  name: i.name,
  os: i.os,
  cuda_version: i.cudaVersion,
  description: i.description,
  compatible_gpus: i.compatibleGpus,
  oci_ref: i.ociRef ?? defaultOciRef(i.id),
  upstream_images: upstreamImagesOf(i),
  active: i.active,
});

const billingName = (seconds: number) =>
  seconds === 1 ? "per_second" : seconds === 60 ? "per_minute" : seconds === 3600 ? "per_hour" : `per_${seconds}s`;

/** Hourly price as an exact decimal string and as a number rounded from it, plus the per-granule price. */
const money = (micros: bigint) => ({ usd: microsToUsd(micros), number: microsToUsdNumber(micros) });

export const InstanceTypeSchema = z
  .object({
    id: z.string().openapi({ example: "h100-80gb-1x" }),
    name: z.string(),
    plan_id: z.string().openapi({ example: "GPU.H100.1x" }),
    cluster_type: z.string().openapi({ example: "1H100.80S.30V" }),
    aliases: z.array(z.object({ alias: z.string(), kind: z.string() })),
    gpu_model: z.string(),
    gpu_memory_gb: z.number().int(),
    gpu_count: z.number().int(),
    vcpus: z.number().int(),
    ram_gb: z.number().int(),
    disk_gb: z.number().int(),
    price_per_hour: z.string().openapi({ description: "Exact USD", example: "2.490000" }),
    price_per_hour_usd: z.number().openapi({ description: "USD, rounded from the exact price", example: 2.49 }),
    billing: z.string().openapi({ example: "per_second" }),
    billing_granularity_seconds: z.number().int(),
    minimum_charge: z.string(),
    region_prices: z.record(z.string(), z.string()),
    active: z.boolean(),
  })
  .openapi("InstanceType");

export const instanceTypeView = (t: InstanceType) => ({
  id: t.id,
  name: t.name,
  plan_id: planId(t),
  cluster_type: clusterType(t),
  aliases: t.aliases,
  gpu_model: t.gpuModel,
  gpu_memory_gb: t.gpuMemoryGb,
  gpu_count: t.gpuCount,
  vcpus: t.vcpus,
  ram_gb: t.ramGb,
  disk_gb: t.diskGb,
  price_per_hour: microsToUsd(t.pricePerHourMicros),
  price_per_hour_usd: microsToUsdNumber(t.pricePerHourMicros),
  billing: billingName(t.billingGranularitySeconds),
  billing_granularity_seconds: t.billingGranularitySeconds,
  minimum_charge: microsToUsd(t.minimumChargeMicros),
  region_prices: Object.fromEntries(Object.entries(t.regionPrices).map(([r, p]) => [r, microsToUsd(p)])),
  active: t.active,
});

/** Seed 000's plans: one per type, addressed by its plan id. */
export const Plan = z
  .object({
    id: z.string().openapi({ example: "GPU.H100.1x" }),
    name: z.string(),
    gpu_type: z.string().openapi({ example: "H100" }),
    gpu_count: z.number().int(),
    gpu_memory_gb: z.number().int(),
    vcpus: z.number().int(),
    ram_gb: z.number().int(),
    disk_gb: z.number().int(),
    price_per_hour: z.string(),
    price_per_hour_usd: z.number(),
    price_per_minute_usd: z.number(),
    billing: z.string(),
    cluster_type: z.string(),
    instance_type_id: z.string(),
    available: z.boolean(),
    available_count: z.number().int(),
  })
  .openapi("Plan");

export const planView = (offer: Offer) => {
  const t = offer.type;
  const available = offer.regions.reduce((n, r) => n + r.available, 0);
  return {
    id: planId(t),
    name: t.name,
    gpu_type: t.gpuModel,
    gpu_count: t.gpuCount,
    gpu_memory_gb: t.gpuMemoryGb,
    vcpus: t.vcpus,
    ram_gb: t.ramGb,
    disk_gb: t.diskGb,
    price_per_hour: microsToUsd(t.pricePerHourMicros),
    price_per_hour_usd: microsToUsdNumber(t.pricePerHourMicros),
    price_per_minute_usd: microsToUsdNumber(t.pricePerHourMicros / 60n),
    billing: billingName(t.billingGranularitySeconds),
    cluster_type: clusterType(t),
    instance_type_id: t.id,
    available: available > 0,
    available_count: available,
  };
};

/** Seed 001's offer: a type's specs, price and live availability per region. */
export const OfferSchema = z
  .object({
    id: z.string().openapi({ example: "1H100.80S.30V" }),
    cluster_type: z.string(),
    plan_id: z.string(),
    instance_type_id: z.string(),
    name: z.string(),
    gpu: z.object({ model: z.string(), count: z.number().int(), memory_gb: z.number().int() }),
    specs: z.object({ vcpus: z.number().int(), ram_gb: z.number().int(), disk_gb: z.number().int() }),
    price_per_hour: z.string(),
    price_per_hour_usd: z.number(),
    price_per_gpu_hour_usd: z.number(),
    billing: z.string(),
    billing_granularity_seconds: z.number().int(),
    available: z.boolean(),
    available_count: z.number().int(),
    regions: z.array(
      z.object({
        region: z.string(),
        location: z.string(),
        available: z.boolean(),
        available_count: z.number().int(),
        price_per_hour: z.string(),
        price_per_hour_usd: z.number(),
      }),
    ),
  })
  .openapi("Offer");

export const offerView = (offer: Offer) => {
  const t = offer.type;
  const total = offer.regions.reduce((n, r) => n + r.available, 0);
  return {
    id: clusterType(t),
    cluster_type: clusterType(t),
    plan_id: planId(t),
    instance_type_id: t.id,
    name: t.name,
    gpu: { model: t.gpuModel, count: t.gpuCount, memory_gb: t.gpuMemoryGb },
    specs: { vcpus: t.vcpus, ram_gb: t.ramGb, disk_gb: t.diskGb },
    price_per_hour: money(t.pricePerHourMicros).usd,
    price_per_hour_usd: money(t.pricePerHourMicros).number,
    price_per_gpu_hour_usd: microsToUsdNumber(t.pricePerHourMicros / BigInt(t.gpuCount)),
    billing: billingName(t.billingGranularitySeconds),
    billing_granularity_seconds: t.billingGranularitySeconds,
    available: total > 0,
    available_count: total,
    regions: offer.regions.map((r) => ({
      region: r.regionId,
      location: r.regionId,
      available: r.available > 0,
      available_count: r.available,
      price_per_hour: microsToUsd(r.pricePerHourMicros),
      price_per_hour_usd: microsToUsdNumber(r.pricePerHourMicros),
    })),
  };
};
