import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { LambdaFake } from "./fakes/lambda.js";
import { VerdaFake } from "./fakes/verda.js";

const lambda = await new LambdaFake().start();
const verda = await new VerdaFake().start();
afterAll(() => Promise.all([lambda.stop(), verda.stop()]));

/** What the operator sells: catalog sync, markup per provider and per type, operator edits kept, margins shown. */
describeEachDb(
  "resold catalog and markup",
  (h) => {
    beforeAll(() => {
      lambda.reset();
      verda.reset();
    });
    it("prices each upstream type at its price plus the markup (per provider, or per type), exactly", async () => {
      verda.now = lambda.now = () => h().clock.now().getTime();
      expect(
        (await h().patch("/api/v1/providers/verda", { markup_percent: "15", markup_fixed_usd: "0.05" })).status,
      ).toBe(200);
      const synced = await h().post("/api/v1/providers/verda/sync");
      expect(synced.status).toBe(200);
      expect(synced.body.data).toMatchObject({ provider: "verda", offers: 4 });

      // $2.19 + 15 % ($0.3285) + $0.05 = $2.5685, in integer micro-dollars.
      const offers = await h().get("/api/v1/providers/offers");
      const h100 = offers.body.data.find(
        (o: any) => o.upstream_type === "1H100.80S.30V" && o.upstream_region === "FIN-01",
      );
      expect(h100).toMatchObject({
        instance_type: "h100-80gb-1x",
        region: "FIN-01",
        upstream_price_per_hour: "2.190000",
        price_per_hour: "2.568500",
        margin_per_hour: "0.378500",
        available: true,
      });

      // A per-type markup replaces the provider's for that type.
      const perType = await h().request("PUT", "/api/v1/providers/verda/types/1A100.22V/markup", {
        body: { markup_percent: "50", markup_fixed_usd: null },
      });
      expect(perType.status).toBe(200);
      const again = await h().post("/api/v1/providers/verda/sync");
      expect(again.status).toBe(200);
      const after = await h().get("/api/v1/providers/offers");
      const a = after.body.data.find((o: any) => o.upstream_type === "1A100.22V" && o.upstream_region === "FIN-01");
      expect(a).toMatchObject({ upstream_price_per_hour: "1.290000", price_per_hour: "1.985000" }); // 1.29 × 1.5 + 0.05
    });

    it("writes the sell price into a new region and keeps an operator's edit there on the next sync", async () => {
      lambda.now = () => h().clock.now().getTime();
      await h().patch("/api/v1/providers/lambda", { markup_percent: "10", markup_fixed_usd: "0" });
      const first = await h().post("/api/v1/providers/lambda/sync");
      expect(first.body.data.regions_created).toContain("us-west-1");
      const priceIn = async (region: string) => {
        const res = await h().get(`/api/v1/gpus/available?region=${region}&gpu_model=H100`);
        return res.body.data.find((o: any) => o.cluster_type === "1H100.80S.30V").regions[0];
      };
      expect((await priceIn("us-west-1")).price_per_hour).toBe("2.739000"); // $2.49 + 10 %

      // The operator sets their own price there; a price change upstream and a re-sync do not touch it.
      const { tenantId } = await customer(h());
      expect(tenantId).toBeGreaterThan(0);
      await h().ctx.db.execute(
        (await import("drizzle-orm"))
          .sql`update instance_type_region_prices set price_per_hour_micros = 3000000 where instance_type_id = 'h100-80gb-1x' and region_id = 'us-west-1'`,
      );
      lambda.types[0].priceCents = 259;
      const second = await h().post("/api/v1/providers/lambda/sync");
      expect(second.body.data.prices_kept).toBeGreaterThanOrEqual(1);
      expect((await priceIn("us-west-1")).price_per_hour).toBe("3.000000");
      lambda.types[0].priceCents = 249;
    });

    it("refuses a bad markup and an unknown provider with a 400 that names the field", async () => {
      const bad = await h().patch("/api/v1/providers/lambda", { markup_percent: "-5" });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/markup_percent/);
      const unknown = await h().patch("/api/v1/providers/aws", { markup_percent: "5" });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toMatch(/name/);
    });
  },
  {
    manualClock: true,
    env: {
      GPUPLANE_SIMULATOR: "off",
      ...lambda.env(),
      ...verda.env(),
    },
  },
);

/** A wrong credential is the operator's problem, shown to the operator: never a customer's 500. */
describeEachDb(
  "a resold cloud with a wrong credential",
  (h) => {
    beforeAll(() => {
      lambda.reset();
      verda.reset();
    });
    it("answers 502 on the sync, shows the error on GET /providers and /healthz, and the status sync goes on", async () => {
      lambda.now = () => h().clock.now().getTime();
      const sync = await h().post("/api/v1/providers/lambda/sync");
      expect(sync.status).toBe(502);
      expect(sync.body.error).toMatch(/global\/invalid-api-key/);
      const listed = await h().get("/api/v1/providers");
      expect(listed.body.data.find((p: any) => p.name === "lambda")).toMatchObject({ configured: true, ok: false });
      const stats = await h().runWorker("status-sync");
      expect((stats as any).upstreams[0].error).toMatch(/invalid-api-key/);
      const health = await h().get("/healthz", null);
      expect(health.status).toBe(200);
      expect(health.body.providers.lambda).toMatchObject({ ok: false });
      expect(health.body.providers.lambda.error).toMatch(/invalid-api-key/);
      expect(health.text).not.toContain("wrong-key-0123456789");
      expect(listed.text).not.toContain("wrong-key-0123456789");
    });
  },
  {
    manualClock: true,
    env: {
      GPUPLANE_SIMULATOR: "off",
      GPUPLANE_LAMBDA_API_KEY: "wrong-key-0123456789",
      GPUPLANE_LAMBDA_URL: lambda.url,
    },
  },
);
