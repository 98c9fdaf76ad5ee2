/** `offers`: what can be rented, at what price, and how many are free in each region right now. */
import { type Schema, unwrap } from "@gpuplane/sdk";
import { table, usd } from "../output.js";
import { type Command, flag, int, str, UsageError } from "../spec.js";

type Offer = Schema<"Offer">;

/** An exact USD string as integer micro-dollars, so a price filter never rounds (money is never a float here). */
export function toMicros(value: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(value.trim());
  if (!match) throw new UsageError(`"${value}" is not a USD amount (e.g. 2.50)`);
  return BigInt(match[1]) * 1_000_000n + BigInt((match[2] ?? "").padEnd(6, "0"));
}

export const offerCommands: Command[] = [
  {
    path: ["images"],
    summary: "OS images (templates) an instance can start from",
    anonymous: true,
    async run(c) {
      const images = await unwrap(c.api().GET("/api/v1/images"));
      c.out.result(images, () =>
        table(images, [
          ["SLUG", (i) => i.slug],
          ["NAME", (i) => i.name],
          ["OS", (i) => i.os],
          ["CUDA", (i) => i.cuda_version],
        ]),
      );
    },
  },
  {
    path: ["offers"],
    summary: "GPU offers: price and live availability per region",
    anonymous: true,
    options: [
      { name: "gpu", value: "MODEL", help: "only this GPU model (H100, A100, …)" },
      { name: "count", value: "N", help: "only offers with exactly N GPUs" },
      { name: "region", value: "REGION", help: "only this region (FIN-01, us-east-1, …)" },
      { name: "max-price", value: "USD", help: "only offers at or below this price per hour" },
      { name: "available", help: "only offers with capacity now" },
    ],
    async run(c, a) {
      const region = str(a, "region");
      const count = int(a, "count");
      const maxPrice = str(a, "max-price");
      const max = maxPrice === undefined ? undefined : toMicros(maxPrice);
      const query = { gpu_model: str(a, "gpu"), region, available: flag(a, "available") ? "true" : undefined } as const;
      const offers = (await unwrap(c.api().GET("/api/v1/offers", { params: { query } }))).filter(
        (o: Offer) =>
          (count === undefined || o.gpu.count === count) && (max === undefined || toMicros(o.price_per_hour) <= max),
      );
      const rows = offers.flatMap((offer) =>
        offer.regions
          .filter((r) => (!region || r.region === region) && (!flag(a, "available") || r.available))
          .map((r) => ({ offer, region: r })),
      );
      c.out.result(offers, () =>
        table(rows, [
          ["OFFER", (r) => r.offer.cluster_type],
          ["PLAN", (r) => r.offer.plan_id],
          ["GPUS", (r) => `${r.offer.gpu.count}× ${r.offer.gpu.model} ${r.offer.gpu.memory_gb ?? ""}GB`],
          ["VCPU", (r) => r.offer.specs.vcpus],
          ["RAM", (r) => `${r.offer.specs.ram_gb}GB`],
          ["REGION", (r) => r.region.region],
          ["FREE", (r) => r.region.available_count],
          ["PRICE/H", (r) => usd(r.region.price_per_hour)],
        ]),
      );
    },
  },
];
