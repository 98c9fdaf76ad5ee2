import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeEach, expect, it } from "vitest";
import { events, instances, instanceTypeRegionPrices, instanceTypes } from "../../src/db/schema/index.js";
import { divRound } from "../../src/lib/money.js";
import { chargedFor } from "../billing/fixtures.js";
import { describeEachDb } from "../helpers/harness.js";
import { fund, sshPublicKey } from "../instances/fixtures.js";
import { LambdaFake, type LambdaFakeType } from "./fakes/lambda.js";
import { VerdaFake } from "./fakes/verda.js";
import { connect, tick, view } from "./helpers.js";

const lambda = await new LambdaFake().start();
const verda = await new VerdaFake().start();
afterAll(() => Promise.all([lambda.stop(), verda.stop()]));

const lambdaType = (name: string, gpuDescription: string, priceCents: number): LambdaFakeType => ({
  name,
  gpuDescription,
  priceCents,
  gpus: 1,
  vcpus: 26,
  memoryGib: 200,
  storageGib: 1000,
});
const defaultLambdaTypes = lambda.types.map((t) => ({ ...t }));
const defaultLambdaListed = new Set(lambda.listed);

/** The money side of resale (issue 25): prices never below cost, billing as the cloud bills, no endless provisioning. */
describeEachDb(
  "resale money",
  (h) => {
    beforeEach(() => {
      lambda.reset();
      verda.reset();
      verda.provisionMs = 90_000;
      lambda.types = defaultLambdaTypes.map((t) => ({ ...t }));
      lambda.listed = new Set(defaultLambdaListed);
    });

    const regionPrice = async (typeId: string, regionId: string) => {
      const [row] = await h()
        .ctx.db.select()
        .from(instanceTypeRegionPrices)
        .where(
          and(eq(instanceTypeRegionPrices.instanceTypeId, typeId), eq(instanceTypeRegionPrices.regionId, regionId)),
        );
      return row?.pricePerHourMicros ?? null;
    };

    it("sync raises a default-catalog price below the cloud's price plus markup, and the offers show what customers pay", async () => {
      // Lambda charges $3.11/h for a 1× H100 SXM in us-east-1; the default catalog has $2.69/h there.
      lambda.types = [lambdaType("gpu_1x_h100_sxm5", "H100 (80 GB SXM5)", 311)];
      lambda.listed = new Set(["gpu_1x_h100_sxm5@us-east-1"]);
      expect(await regionPrice("h100-80gb-1x", "us-east-1")).toBe(2_690_000n);
      await h().patch("/api/v1/providers/lambda", { markup_percent: "0", markup_fixed_usd: "0" });
      await connect(h(), { lambda });

      expect(await regionPrice("h100-80gb-1x", "us-east-1")).toBe(3_110_000n);
      const offers = (await h().get("/api/v1/providers/offers")).body.data;
      const offer = offers.find((o: any) => o.provider === "lambda" && o.upstream_type === "gpu_1x_h100_sxm5");
      expect(offer).toMatchObject({ instance_type: "h100-80gb-1x", region: "us-east-1", price_per_hour: "3.110000" });
      // What a customer is quoted for it there is that price.
      const available = await h().get("/api/v1/gpus/available?region=us-east-1&gpu_model=H100");
      const quoted = available.body.data.find((o: any) => o.cluster_type === "1H100.80S.30V").regions[0];
      expect(quoted.price_per_hour).toBe("3.110000");
    });

    it("an operator price below cost is raised at the next sync, unless the operator allows it: then kept, with a negative margin", async () => {
      lambda.types = [lambdaType("gpu_1x_h100_sxm5", "H100 (80 GB SXM5)", 311)];
      lambda.listed = new Set(["gpu_1x_h100_sxm5@us-east-1"]);
      await h().patch("/api/v1/providers/lambda", { markup_percent: "10", markup_fixed_usd: "0" });
      await connect(h(), { lambda });
      const setPrice = (micros: bigint) =>
        h().ctx.db.execute(
          sql`update instance_type_region_prices set price_per_hour_micros = ${micros} where instance_type_id = 'h100-80gb-1x' and region_id = 'us-east-1'`,
        );
      // Above cost + markup ($3.421): the operator's price stays.
      await setPrice(3_600_000n);
      await h().post("/api/v1/providers/lambda/sync");
      expect(await regionPrice("h100-80gb-1x", "us-east-1")).toBe(3_600_000n);
      // Below it: raised back to $3.11 + 10 %.
      await setPrice(3_000_000n);
      const raised = await h().post("/api/v1/providers/lambda/sync");
      expect(raised.body.data.prices_raised).toBe(1);
      expect(await regionPrice("h100-80gb-1x", "us-east-1")).toBe(3_421_000n);

      // With the explicit flag, the operator's $3.00 is kept and the offer shows it at a loss.
      const flagged = await h().patch("/api/v1/providers/lambda", { allow_below_cost: true });
      expect(flagged.body.data.allow_below_cost).toBe(true);
      await setPrice(3_000_000n);
      await h().post("/api/v1/providers/lambda/sync");
      expect(await regionPrice("h100-80gb-1x", "us-east-1")).toBe(3_000_000n);
      const offer = (await h().get("/api/v1/providers/offers")).body.data.find(
        (o: any) => o.upstream_type === "gpu_1x_h100_sxm5",
      );
      expect(offer).toMatchObject({ price_per_hour: "3.000000", margin_per_hour: "-0.110000" });
      await h().patch("/api/v1/providers/lambda", { allow_below_cost: false });
    });

    it("keeps each charge's upstream cost in the ledger: margins per instance, and an alert on one sold at a loss", async () => {
      lambda.types = [lambdaType("gpu_1x_h100_sxm5", "H100 (80 GB SXM5)", 311)];
      lambda.listed = new Set(["gpu_1x_h100_sxm5@us-east-1"]);
      await h().patch("/api/v1/providers/lambda", {
        markup_percent: "0",
        markup_fixed_usd: "0",
        allow_below_cost: true,
      });
      await connect(h(), { lambda });
      // The operator sells it at $3.00/h, explicitly below Lambda's $3.11/h.
      await h().ctx.db.execute(
        sql`update instance_type_region_prices set price_per_hour_micros = 3000000 where instance_type_id = 'h100-80gb-1x' and region_id = 'us-east-1'`,
      );
      await h().post("/api/v1/providers/lambda/sync");
      const { key, tenantId } = await h().signup();
      await fund(h(), tenantId, "50");
      const sshKey = await h().post("/api/v1/ssh-keys", { name: "laptop", public_key: sshPublicKey() }, key);
      const created = await h().post(
        "/api/v1/instances",
        {
          name: "at-a-loss",
          planId: "GPU.H100.1x",
          templateSlug: "pytorch-cuda",
          sshKeyId: sshKey.body.data.id,
          region: "us-east-1",
        },
        key,
      );
      expect(created.status).toBe(201);
      const id = created.body.data.id as string;
      await tick(h(), "provisioning");
      h().clock.advance(60_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("running");
      h().clock.advance(1_790_000); // 29 min 50 s after it ran: Lambda bills 30 min from active
      expect((await h().del(`/api/v1/instances/${id}`, key)).status).toBe(200);
      h().clock.advance(6_000);
      await tick(h(), "status-sync");
      await h().runWorker("meter");

      // Lambda turned active 60 s after the launch, unseen until the pass at 60 s: the customer's run starts at the
      // last sight of it not yet active (the launch), never after Lambda's charge began. 1,850 s: 31 whole minutes.
      // Revenue $3.00/h and Lambda's cost $3.11/h for them.
      const margins = (await h().get("/api/v1/dashboard/margins?days=1")).body.data;
      const mine = margins.instances.find((i: any) => i.instance_id === id);
      expect(mine).toMatchObject({
        provider: "lambda",
        tenant_id: tenantId,
        seconds: 1_860,
        revenue_usd: "1.550000",
        upstream_cost_usd: "1.606833",
        margin_usd: "-0.056833",
      });
      const [rule] = (await h().get("/api/v1/alerts/rules")).body.data.filter((r: any) => r.type === "margin_negative");
      expect(rule).toBeDefined();
      await h().runWorker("alerts");
      const opened = (await h().get(`/api/v1/alerts/events?rule_id=${rule.id}&limit=100`)).body.data;
      expect(opened.map((e: any) => e.subject)).toContain(`instance:${id}`);
      await h().patch("/api/v1/providers/lambda", { allow_below_cost: false });
    });

    it("maps by model, memory and form factor: H100 PCIe, SXM and NVL, A100 40 and 80 GB, RTX 6000 and RTX 6000 Ada stay apart", async () => {
      lambda.types = [
        lambdaType("gpu_1x_h100_sxm5", "H100 (80 GB SXM5)", 329),
        lambdaType("gpu_1x_h100_pcie", "H100 (80 GB PCIe)", 249),
        lambdaType("gpu_1x_h100_nvl", "H100 NVL (94 GB)", 279),
        lambdaType("gpu_1x_a100", "A100 (40 GB PCIe)", 129),
        lambdaType("gpu_1x_a100_sxm4", "A100 (80 GB SXM4)", 179),
        lambdaType("gpu_1x_rtx6000", "RTX 6000 (24 GB)", 50),
        lambdaType("gpu_1x_rtx6000_ada", "RTX 6000 Ada (48 GB)", 89),
      ];
      lambda.listed = new Set(lambda.types.map((t) => `${t.name}@us-west-2`));
      await connect(h(), { lambda });
      const offers = (await h().get("/api/v1/providers/offers")).body.data.filter(
        (o: any) => o.provider === "lambda" && o.upstream_region === "us-west-2",
      );
      const typeOf = (name: string) => offers.find((o: any) => o.upstream_type === name)?.instance_type;
      const mapped = lambda.types.map((t) => typeOf(t.name));
      expect(mapped.every(Boolean)).toBe(true);
      expect(new Set(mapped).size).toBe(lambda.types.length);
      expect(typeOf("gpu_1x_h100_sxm5")).toBe("h100-80gb-1x");
      expect(typeOf("gpu_1x_a100_sxm4")).toBe("a100-80gb-1x");
      // Each type created for the others says what part it is.
      const rows = await h().ctx.db.select().from(instanceTypes);
      const pcie = rows.find((t) => t.id === typeOf("gpu_1x_h100_pcie"))!;
      expect(pcie).toMatchObject({ gpuModel: "H100", gpuMemoryGb: 80, gpuFormFactor: "PCIe" });
      const a100 = rows.find((t) => t.id === typeOf("gpu_1x_a100"))!;
      expect(a100).toMatchObject({ gpuModel: "A100", gpuMemoryGb: 40 });
    });

    it("an upstream instance that never becomes reachable is terminated at the provider's timeout, failed with the reason, never billed", async () => {
      await connect(h(), { verda });
      verda.provisionMs = Number.POSITIVE_INFINITY; // Verda keeps it `ordered`/`provisioning`: never reachable
      const { key, tenantId } = await h().signup();
      await fund(h(), tenantId, "50");
      const sshKey = await h().post("/api/v1/ssh-keys", { name: "laptop", public_key: sshPublicKey() }, key);
      const created = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "never-up",
          ssh_key_ids: [sshKey.body.data.id],
          location: "FIN-01",
        },
        key,
      );
      expect(created.status).toBe(201);
      const id = created.body.data.id as string;
      await tick(h(), "provisioning");
      const [upstream] = verda.byHostname(`gp-${id}`);
      expect(upstream).toBeDefined();
      // The default timeout: 20 minutes from the launch.
      for (let minute = 0; minute < 19; minute++) {
        h().clock.advance(60_000);
        await tick(h(), "status-sync");
      }
      expect((await view(h(), id, key)).status).toBe("provisioning");
      h().clock.advance(70_000);
      await tick(h(), "status-sync");
      const failed = await view(h(), id, key);
      expect(failed.status).toBe("failed");
      expect(failed.statusReason).toMatch(/not reachable within 20 min/);
      expect(
        verda
          .calls("PUT", "/instances")
          .some((c: any) => c.body.action === "delete" && c.body.id.includes(upstream.id)),
      ).toBe(true);
      await h().runWorker("meter");
      expect(await chargedFor(h(), "instance_id", id)).toBe(0n);
      const alerts = await h().ctx.db.select().from(events).where(eq(events.type, "provider.provisioning_timeout"));
      expect(alerts.map((e) => (e.data as any).instance_id)).toContain(id);
      // The operator sets it per provider.
      const patched = await h().patch("/api/v1/providers/verda", { provisioning_timeout_seconds: 900 });
      expect(patched.body.data.provisioning_timeout_seconds).toBe(900);
    });

    it("a stopped Verda instance keeps billing at the full price (Verda charges shut-down instances), and says so", async () => {
      await connect(h(), { verda });
      verda.actionMs = 0;
      const { key, tenantId } = await h().signup();
      await fund(h(), tenantId, "50");
      const sshKey = await h().post("/api/v1/ssh-keys", { name: "laptop", public_key: sshPublicKey() }, key);
      const created = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "stopped-still-billed",
          ssh_key_ids: [sshKey.body.data.id],
          location: "FIN-01",
        },
        key,
      );
      const id = created.body.data.id as string;
      await tick(h(), "provisioning");
      h().clock.advance(90_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("running");
      h().clock.advance(600_000);
      const stop = await h().post(`/api/v1/instances/${id}/stop`, undefined, key);
      expect(stop.status).toBe(200);
      expect(stop.body.data.statusReason).toMatch(/keeps (charging|billing)/);
      await tick(h(), "status-sync");
      const stopped = await view(h(), id, key);
      expect(stopped.status).toBe("stopped");
      expect(stopped.billedWhileStopped).toMatch(/full price/);
      h().clock.advance(3_600_000);
      await h().runWorker("meter");
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      // Created at t0, launched by the provisioning tick at t0: Verda bills from its create; 90 + 600 + 3600 s so far.
      expect(await chargedFor(h(), "instance_id", id)).toBe(divRound(row.pricePerHourMicros * 4_290n, 3_600n));
    });
  },
  { manualClock: true, env: { GPUPLANE_SIMULATOR: "off", ...verda.env(), ...lambda.env() } },
);
