import Stripe from "stripe";
import { afterAll, beforeAll, expect, it } from "vitest";
import { meterPass } from "../../src/domain/billing/meter.js";
import { createStripeClient } from "../../src/domain/billing/stripe.js";
import { describeEachDb } from "../helpers/harness.js";
import { FakeStripe } from "./fake-stripe.js";
import { insertRunningInstance, stopInstanceRow } from "./fixtures.js";

const WEBHOOK_SECRET = "whsec_test_gpuplane";
const signer = new Stripe("sk_test_signer");
const HOUR = 3600_000;

describeEachDb(
  "invoices, top-ups and Stripe",
  (h) => {
    let fake: FakeStripe;
    beforeAll(async () => {
      fake = await new FakeStripe().start();
    });
    afterAll(() => fake?.stop());

    const withStripe = () => {
      h().ctx.services.stripe = createStripeClient("sk_test_gpuplane", {
        host: "127.0.0.1",
        port: fake.port,
        protocol: "http",
      });
    };
    const withoutStripe = () => {
      h().ctx.services.stripe = undefined;
    };

    /** A tenant with two hours of usage on one instance ($3.60/h) — $7.20 — charged by the meter. */
    async function tenantWithUsage() {
      const { tenantId, key } = await h().signup();
      await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "100" });
      const id = await insertRunningInstance(h(), { tenantId, pricePerHourMicros: 3_600_000n });
      h().clock.advance(HOUR);
      await meterPass(h().ctx);
      h().clock.advance(HOUR);
      await stopInstanceRow(h(), id);
      await meterPass(h().ctx);
      return { tenantId, key, instanceId: id };
    }
    const period = () => ({
      period_start: new Date(h().clock.now().getTime() - 30 * 86_400_000).toISOString(),
      period_end: new Date(h().clock.now().getTime() + 1000).toISOString(),
    });

    function signed(event: unknown) {
      const payload = JSON.stringify(event);
      const signature = signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      return h().request("POST", "/api/v1/billing/stripe/webhook", {
        key: null,
        raw: payload,
        headers: { "stripe-signature": signature },
      });
    }

    it("generates an invoice from usage, once, and validates status transitions (no Stripe)", async () => {
      withoutStripe();
      const { tenantId, key, instanceId } = await tenantWithUsage();
      const made = await h().post("/api/v1/billing/invoices", { tenant_id: tenantId, ...period() });
      expect(made.status).toBe(201);
      expect(made.body.data).toHaveLength(1);
      const invoice = made.body.data[0];
      expect(invoice).toMatchObject({ status: "draft", total_usd: "7.200000", stripe_invoice_id: null });
      const detail = await h().get(`/api/v1/billing/invoices/${invoice.id}`, key);
      expect(detail.body.data.lines).toEqual([
        expect.objectContaining({ instance_id: instanceId, amount_usd: "7.200000", quantity_seconds: 7200 }),
      ]);
      // Usage is invoiced once: a second run for the period makes nothing new.
      const again = await h().post("/api/v1/billing/invoices", { tenant_id: tenantId, ...period() });
      expect(again.status).toBe(201);
      expect(again.body.data).toEqual([]);
      const tx = await h().get("/api/v1/billing/transactions?kind=usage", key);
      expect(tx.body.data.every((t: any) => t.invoice_id === invoice.id)).toBe(true);

      const bad = await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "paid" });
      expect(bad.status).toBe(409);
      expect(bad.body.error).toContain("draft");
      expect((await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "open" })).body.data.status).toBe(
        "open",
      );
      const paid = await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "paid" });
      expect(paid.body.data).toMatchObject({ status: "paid" });
      expect((await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "void" })).status).toBe(409);
      // Only the operator generates and moves invoices; tenants see their own only.
      expect((await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "void" }, key)).status).toBe(403);
      const other = await h().signup();
      expect((await h().get(`/api/v1/billing/invoices/${invoice.id}`, other.key)).status).toBe(404);
      expect((await h().get("/api/v1/billing/invoices", other.key)).body.data).toEqual([]);
    });

    it("voiding releases the usage for a new invoice", async () => {
      withoutStripe();
      const { tenantId } = await tenantWithUsage();
      const first = (await h().post("/api/v1/billing/invoices", { tenant_id: tenantId, ...period() })).body.data[0];
      expect((await h().patch(`/api/v1/billing/invoices/${first.id}`, { status: "void" })).status).toBe(200);
      const again = await h().post("/api/v1/billing/invoices", { tenant_id: tenantId, ...period() });
      expect(again.status).toBe(201);
      expect(again.body.data[0].total_usd).toBe("7.200000");
    });

    it("pushes an opened invoice to Stripe and marks it paid from the signed invoice.paid webhook, once", async () => {
      withStripe();
      const { tenantId } = await tenantWithUsage();
      const invoice = (await h().post("/api/v1/billing/invoices", { tenant_id: tenantId, ...period() })).body.data[0];
      const opened = await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "open" });
      expect(opened.status).toBe(200);
      expect(opened.body.data).toMatchObject({ status: "open", stripe_status: "open" });
      expect(opened.body.data.stripe_invoice_id).toMatch(/^in_/);
      expect(opened.body.data.hosted_invoice_url).toContain(opened.body.data.stripe_invoice_id);
      const remote = fake.objects.get(opened.body.data.stripe_invoice_id);
      expect(remote.total).toBe(720); // cents
      expect(remote.metadata.gpuplane_invoice_id).toBe(String(invoice.id));
      expect(fake.objects.get(remote.customer).metadata.gpuplane_tenant_id).toBe(String(tenantId));

      const paidEvent = fake.event("invoice.paid", { ...remote, status: "paid" });
      const first = await signed(paidEvent);
      expect(first.status).toBe(200);
      expect(first.body.data).toMatchObject({ handled: true, duplicate: false });
      const replay = await signed(paidEvent);
      expect(replay.body.data).toMatchObject({ handled: true, duplicate: true });
      const after = await h().get(`/api/v1/billing/invoices/${invoice.id}`);
      expect(after.body.data).toMatchObject({ status: "paid", stripe_status: "paid" });

      const forged = await h().request("POST", "/api/v1/billing/stripe/webhook", {
        key: null,
        raw: JSON.stringify(paidEvent),
        headers: { "stripe-signature": "t=1,v1=deadbeef" },
      });
      expect(forged.status).toBe(400);
    });

    it("tops up through Checkout and credits once on the signed webhook", async () => {
      withStripe();
      const { tenantId, key } = await h().signup();
      const created = await h().post("/api/v1/billing/topups", { amount_usd: "50" }, key);
      expect(created.status).toBe(201);
      expect(created.body.data).toMatchObject({ amount_usd: "50.000000", status: "pending" });
      expect(created.body.data.checkout_url).toContain("checkout.stripe.test");
      const session = fake.objects.get(created.body.data.stripe_session_id);
      expect(session.amount_total).toBe(5000);
      expect((await h().get("/api/v1/billing/balance", key)).body.data.balance).toBe("5.000000");

      const completed = fake.event("checkout.session.completed", {
        ...session,
        status: "complete",
        payment_status: "paid",
        payment_intent: "pi_test_1",
      });
      expect((await signed(completed)).body.data).toMatchObject({ handled: true, duplicate: false });
      expect((await signed(completed)).body.data).toMatchObject({ handled: true, duplicate: true });
      const balance = await h().get("/api/v1/billing/balance", key);
      expect(balance.body.data.balance).toBe("55.000000");
      const topups = await h().get("/api/v1/billing/transactions?kind=topup", key);
      expect(topups.body.data).toHaveLength(1);
      const listed = await h().get("/api/v1/billing/topups", key);
      expect(listed.body.data[0]).toMatchObject({ status: "succeeded" });
      // Another tenant cannot top up for this one.
      const other = await h().signup();
      expect(
        (await h().post(`/api/v1/billing/topups?tenant_id=${tenantId}`, { amount_usd: "5" }, other.key)).status,
      ).toBe(404);
    });

    it("answers 503 for a top-up when Stripe is not configured", async () => {
      withoutStripe();
      const { key } = await h().signup();
      const res = await h().post("/api/v1/billing/topups", { amount_usd: "50" }, key);
      expect(res.status).toBe(503);
      expect(res.body.error).toContain("STRIPE_SECRET_KEY");
    });

    it("reports usage per instance and per day, and a summary for the operator and the tenant", async () => {
      withoutStripe();
      const { tenantId, key, instanceId } = await tenantWithUsage();
      const usage = await h().get("/api/v1/billing/usage?days=7", key);
      expect(usage.status).toBe(200);
      expect(usage.body.data.total_usd).toBe("7.200000");
      expect(usage.body.data.items).toEqual([
        expect.objectContaining({ kind: "instance", id: instanceId, amount_usd: "7.200000", seconds: 7200 }),
      ]);
      expect(usage.body.data.days.reduce((n: number, d: any) => n + d.seconds, 0)).toBe(7200);
      const own = await h().get("/api/v1/billing/summary", key);
      expect(own.body.data.days).toBe(30);
      expect(own.body.data.tenants).toEqual([
        expect.objectContaining({ tenant_id: tenantId, usage_usd: "7.200000", balance: "97.800000" }),
      ]);
      const operator = await h().get("/api/v1/billing/summary?days=90");
      expect(operator.body.data.tenants.length).toBeGreaterThan(1);
      expect((await h().get("/api/v1/billing/summary?days=91")).status).toBe(400);
      expect((await h().get("/api/v1/billing/summary?days=0")).status).toBe(400);
    });
  },
  { manualClock: true, env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_SECRET_KEY: "sk_test_gpuplane" } },
);
