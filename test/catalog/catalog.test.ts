import { expect, it } from "vitest";
import { availableCapacity } from "../../src/domain/catalog/offers.js";
import { loadDefaultCatalog } from "../../src/domain/catalog/setup.js";
import { resolveInstanceType } from "../../src/domain/catalog/types.js";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb("catalog", (h) => {
  it("lists the regions, plans, offers and images the seeds name, without a key", async () => {
    const regions = await h().get("/api/v1/regions", null);
    expect(regions.status).toBe(200);
    expect(regions.body.data.map((r: any) => r.id)).toEqual(expect.arrayContaining(["FIN-01", "us-east-1"]));
    const plans = await h().get("/api/v1/plans", null);
    const h100 = plans.body.data.find((p: any) => p.id === "GPU.H100.1x");
    expect(h100).toMatchObject({
      gpu_type: "H100",
      gpu_count: 1,
      price_per_hour: "2.490000",
      price_per_hour_usd: 2.49,
    });
    expect(h100.cluster_type).toBe("1H100.80S.30V");
    for (const model of ["H100", "H200", "B200", "A100", "RTX 6000"]) {
      expect(plans.body.data.filter((p: any) => p.gpu_type === model).map((p: any) => p.gpu_count)).toEqual([
        1, 2, 4, 8,
      ]);
    }
    expect(plans.body.data.some((p: any) => p.billing === "per_minute")).toBe(true);
    const offers = await h().get("/api/v1/gpus/available", null);
    const offer = offers.body.data.find((o: any) => o.cluster_type === "1H100.80S.30V");
    expect(offer).toMatchObject({
      gpu: { model: "H100", count: 1 },
      specs: { vcpus: 30, disk_gb: 80 },
      available: true,
    });
    expect(offer.regions.find((r: any) => r.region === "FIN-01")).toMatchObject({
      available: true,
      available_count: 64,
    });
    expect(offer.regions.find((r: any) => r.region === "ICE-01").price_per_hour).toBe("2.290000");
    const images = await h().get("/api/v1/images", null);
    expect(images.body.data.map((i: any) => i.slug)).toEqual(
      expect.arrayContaining(["pytorch-cuda", "ubuntu-22.04-cuda-12.4-cluster"]),
    );
    const templates = await h().get("/api/v1/templates/pytorch-cuda", null);
    expect(templates.body.data).toMatchObject({ os: "Ubuntu 22.04", cuda_version: "12.8" });
  });

  it("resolves a type by canonical id, plan id or cluster type, and refuses unknown ids with a pointer", async () => {
    const ctx = h().ctx;
    const a = await resolveInstanceType(ctx, "GPU.H100.1x");
    const b = await resolveInstanceType(ctx, "1H100.80S.30V");
    const c = await resolveInstanceType(ctx, "h100-80gb-1x");
    expect(a.id).toBe("h100-80gb-1x");
    expect(b.id).toBe(a.id);
    expect(c.id).toBe(a.id);
    await expect(resolveInstanceType(ctx, "GPU.X999.1x")).rejects.toThrow(/unknown instance type 'GPU.X999.1x'.*plans/);
  });

  it("loads the default catalog idempotently and keeps operator edits", async () => {
    const patched = await h().patch("/api/v1/instance-types/h100-80gb-1x", { price_per_hour: "2.39" });
    expect(patched.status).toBe(200);
    await loadDefaultCatalog(h().ctx);
    const type = await resolveInstanceType(h().ctx, "GPU.H100.1x");
    expect(type.pricePerHourMicros).toBe(2_390_000n);
    await h().patch("/api/v1/instance-types/h100-80gb-1x", { price_per_hour: "2.49" });
  });

  it("computes availability live from the simulator's capacity", async () => {
    const sim = h().ctx.services.providers.simulator!;
    sim.setCapacity("eu-central-1", "H200", 2);
    expect(await availableCapacity(h().ctx, "1H200.100S.44V", "eu-central-1")).toBe(2);
    expect(await availableCapacity(h().ctx, "GPU.H200.2x", "eu-central-1")).toBe(1);
    sim.setCapacity("eu-central-1", "H200", 0);
    const offers = await h().get("/api/v1/gpus/available?region=eu-central-1&gpu_model=H200", null);
    expect(offers.body.data.every((o: any) => o.available === false)).toBe(true);
    sim.setCapacity("eu-central-1", "H200", 16);
  });

  it("lets operators add and change types, images and regions, and nobody else", async () => {
    const { key } = await h().signup();
    const body = {
      id: "l40s-48gb-1x",
      name: "1× L40S",
      gpu_model: "L40S",
      gpu_memory_gb: 48,
      gpu_count: 1,
      vcpus: 16,
      ram_gb: 64,
      disk_gb: 200,
      price_per_hour: "0.99",
      billing_granularity_seconds: 60,
      aliases: [{ alias: "GPU.L40S.1x", kind: "plan" }],
    };
    expect((await h().post("/api/v1/instance-types", body, key)).status).toBe(403);
    const created = await h().post("/api/v1/instance-types", body);
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      plan_id: "GPU.L40S.1x",
      billing: "per_minute",
      price_per_hour: "0.990000",
    });
    expect((await h().post("/api/v1/instance-types", body)).status).toBe(409);
    const bad = await h().post("/api/v1/instance-types", { ...body, id: "x", price_per_hour: "0.1234567" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("price_per_hour");
    expect((await h().post("/api/v1/regions", { id: "NOR-01", name: "Oslo", country: "NO" })).status).toBe(201);
    expect(
      (await h().post("/api/v1/images", { id: "l40s-img", name: "x", os: "Ubuntu 24.04", compatible_gpus: ["L40S"] }))
        .status,
    ).toBe(201);
    const retired = await h().patch("/api/v1/images/l40s-img", { active: false });
    expect(retired.body.data.active).toBe(false);
    const images = await h().get("/api/v1/images", null);
    expect(images.body.data.some((i: any) => i.id === "l40s-img")).toBe(false);
  });
});
