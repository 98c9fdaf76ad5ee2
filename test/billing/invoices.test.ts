import Stripe from "stripe";
import { afterAll, beforeAll, expect, it } from "vitest";
import { meterPass } from "../../src/domain/billing/meter.js";
import { createStripeClient } from "../../src/domain/billing/stripe.js";
import { describeEachDb } from "../helpers/harness.js";
import { FakeStripe } from "./fake-stripe.js";
import { insertRunningInstance, operatorTenant, stopInstanceRow } from "./fixtures.js";

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

    /**
     * A tenant with two hours of usage on one instance ($3.60/h) — $7.20 — charged by the meter: a signed-up one
     * with $105 of credit (prepaid), or one the operator created, starting at zero (invoiced).
     */
    async function tenantWithUsage(mode: "prepaid" | "invoiced" = "prepaid") {
      const { tenantId, key } = mode === "prepaid" ? await h().signup() : await operatorTenant(h());
      if (mode === "prepaid") await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "100" });
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

    /** A tenant with usage (tenantWithUsage), its invoice for the period, and the answer to opening it. */
    async function openInvoice(mode: "prepaid" | "invoiced") {
      const { tenantId, key } = await tenantWithUsage(mode);
      const invoice = (await h().post("/api/v1/billing/invoices", { tenant_id: tenantId, ...period() })).body.data[0];
      const opened = await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "open" });
      return { tenantId, key, invoice, opened };
    }

    /** The tenant's invoice payments (ledger kind invoice_payment) and its balance, as the tenant sees them. */
    async function payments(key: string) {
      const credits = (await h().get("/api/v1/billing/transactions?kind=invoice_payment", key)).body.data;
      return { credits, balance: (await h().get("/api/v1/billing/balance", key)).body.data.balance };
    }

    it("generates an invoice from usage, once, and validates status transitions (no Stripe)", async () => {
      withoutStripe();
      const { tenantId, key, instanceId } = await tenantWithUsage("invoiced");
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
      expect(await payments(key)).toEqual({ credits: [], balance: "-7.200000" });
      const paid = await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "paid" });
      expect(paid.body.data).toMatchObject({ status: "paid" });
      // The invoiced tenant paid what it owed: one credit of the total, and a repeat changes nothing.
      expect((await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "paid" })).status).toBe(200);
      const { credits, balance } = await payments(key);
      expect(balance).toBe("0.000000");
      expect(credits).toEqual([
        expect.objectContaining({ amount_usd: "7.200000", balance_after_usd: "0.000000", invoice_id: invoice.id }),
      ]);
      expect((await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "void" })).status).toBe(409);
      // Only the operator generates and moves invoices; tenants see their own only.
      expect((await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "void" }, key)).status).toBe(403);
      const other = await h().signup();
      expect((await h().get(`/api/v1/billing/invoices/${invoice.id}`, other.key)).status).toBe(404);
      expect((await h().get("/api/v1/billing/invoices", other.key)).body.data).toEqual([]);
    });

    it("takes seed 002's `days` (the last days up to now, default 30) as a query parameter or in the body", async () => {
      withoutStripe();
      const { tenantId, key } = await tenantWithUsage("invoiced"); // $7.20, charged now
      h().clock.advance(10 * 24 * HOUR);
      const recent = await insertRunningInstance(h(), { tenantId, pricePerHourMicros: 1_000_000n });
      h().clock.advance(HOUR);
      await stopInstanceRow(h(), recent);
      await meterPass(h().ctx); // $1.00, charged 10 days after the first usage

      // The last 5 days hold the recent run only.
      const five = await h().post(`/api/v1/billing/invoices?days=5`, { tenant_id: tenantId });
      expect(five.status).toBe(201);
      expect(five.body.data).toHaveLength(1);
      expect(five.body.data[0]).toMatchObject({ total_usd: "1.000000" });
      const { period_start, period_end } = five.body.data[0];
      expect(Date.parse(period_end) - h().clock.now().getTime()).toBeGreaterThan(0); // this instant's charges are in
      expect(Date.parse(period_end) - h().clock.now().getTime()).toBeLessThanOrEqual(1000);
      expect(Date.parse(period_end) - Date.parse(period_start)).toBe(5 * 24 * HOUR);

      // No period at all: the last 30 days, which still hold the older usage (the recent run is invoiced already).
      const thirty = await h().post("/api/v1/billing/invoices", { tenant_id: tenantId });
      expect(thirty.status).toBe(201);
      expect(thirty.body.data).toEqual([expect.objectContaining({ total_usd: "7.200000" })]);
      expect(Date.parse(thirty.body.data[0].period_end) - Date.parse(thirty.body.data[0].period_start)).toBe(
        30 * 24 * HOUR,
      );
      // With no body at all, and `days` in the body: nothing left to invoice, still a 201.
      const bare = await h().request("POST", "/api/v1/billing/invoices?days=90", {});
      expect(bare.status).toBe(201);
      expect((await h().post("/api/v1/billing/invoices", { days: 7 })).status).toBe(201);
      expect((await h().get("/api/v1/billing/invoices", key)).body.data).toHaveLength(2);

      // Out of range or given twice: a 400 naming the problem.
      for (const [path, body, message] of [
        ["/api/v1/billing/invoices?days=0", {}, /days/],
        ["/api/v1/billing/invoices?days=91", {}, /days/],
        ["/api/v1/billing/invoices?days=ten", {}, /days/],
        ["/api/v1/billing/invoices", { days: 120 }, /days/],
        ["/api/v1/billing/invoices", { days: 7, ...period() }, /either days or period_start/],
        ["/api/v1/billing/invoices", { period_start: period().period_start }, /both period_start and period_end/],
        ["/api/v1/billing/invoices?days=7", { days: 7 }, /period once/],
      ] as const) {
        const res = await h().post(path, body);
        expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
        expect(res.body.error).toMatch(message);
      }
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
      const { tenantId, key, invoice, opened } = await openInvoice("invoiced");
      expect(opened.status).toBe(200);
      expect(opened.body.data).toMatchObject({ status: "open", stripe_status: "open" });
      expect(opened.body.data.stripe_invoice_id).toMatch(/^in_/);
      expect(opened.body.data.hosted_invoice_url).toContain(opened.body.data.stripe_invoice_id);
      const remote = fake.objects.get(opened.body.data.stripe_invoice_id);
      expect(remote.total).toBe(720); // cents
      expect(remote).toMatchObject({ collection_method: "send_invoice", status: "open", amount_remaining: 720 });
      expect(fake.paidOutOfBand.has(remote.id)).toBe(false); // the invoiced tenant pays it
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
      // The operator marking it paid as well changes nothing: the payment is credited once.
      expect((await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "paid" })).status).toBe(200);
      const { credits, balance } = await payments(key);
      expect(credits).toHaveLength(1);
      expect(credits[0]).toMatchObject({ amount_usd: "7.200000", invoice_id: invoice.id });
      expect(balance).toBe("0.000000");

      const forged = await h().request("POST", "/api/v1/billing/stripe/webhook", {
        key: null,
        raw: JSON.stringify(paidEvent),
        headers: { "stripe-signature": "t=1,v1=deadbeef" },
      });
      expect(forged.status).toBe(400);
    });

    it("matches a payment Stripe reports before the push stored Stripe's invoice id, by the id in its metadata", async () => {
      withStripe();
      const { tenantId, key } = await tenantWithUsage("invoiced");
      const invoice = (await h().post("/api/v1/billing/invoices", { tenant_id: tenantId, ...period() })).body.data[0];
      // As Stripe sends it when the finalize has happened but gpuplane has not yet written what it returned.
      const early = fake.event("invoice.paid", {
        id: "in_reported_early",
        object: "invoice",
        status: "paid",
        metadata: { gpuplane_invoice_id: String(invoice.id), gpuplane_tenant_id: String(tenantId) },
      });
      expect((await signed(early)).body.data).toMatchObject({ handled: true, duplicate: false });
      expect((await signed(early)).body.data).toMatchObject({ handled: true, duplicate: true });
      const after = (await h().get(`/api/v1/billing/invoices/${invoice.id}`)).body.data;
      expect(after).toMatchObject({ status: "paid", stripe_invoice_id: "in_reported_early" });
      const { credits, balance } = await payments(key);
      expect(credits).toHaveLength(1);
      expect(balance).toBe("0.000000");
      // Metadata naming an invoice that already has another Stripe invoice is not taken for it.
      const other = fake.event("invoice.paid", {
        id: "in_someone_else",
        object: "invoice",
        status: "paid",
        metadata: { gpuplane_invoice_id: String(invoice.id) },
      });
      expect((await signed(other)).body.data).toMatchObject({ handled: false });
    });

    it("credits an invoiced tenant once when the operator and Stripe mark the invoice paid at the same time", async () => {
      withStripe();
      const { key, invoice, opened } = await openInvoice("invoiced");
      const remote = fake.objects.get(opened.body.data.stripe_invoice_id);
      const paidEvent = fake.event("invoice.paid", { ...remote, status: "paid" });
      const answers = await Promise.all([
        h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "paid" }),
        signed(paidEvent),
        signed(paidEvent),
      ]);
      // The PATCH that loses the race is told to retry (409); a retry finds it paid.
      for (const answer of answers) expect([200, 409]).toContain(answer.status);
      expect((await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "paid" })).status).toBe(200);
      const { credits, balance } = await payments(key);
      expect(credits).toHaveLength(1);
      expect(balance).toBe("0.000000");
    });

    it("settles a prepaid tenant's invoice when opened: paid out of band in Stripe and paid here, no credit", async () => {
      withStripe();
      const { key, opened } = await openInvoice("prepaid");
      expect(opened.status).toBe(200);
      expect(opened.body.data).toMatchObject({ status: "paid", stripe_status: "paid" });
      expect(opened.body.data.finalized_at).toBe(opened.body.data.paid_at);
      const remote = fake.objects.get(opened.body.data.stripe_invoice_id);
      expect(remote).toMatchObject({ status: "paid", total: 720, amount_paid: 720, amount_remaining: 0 });
      expect(fake.paidOutOfBand.has(remote.id)).toBe(true);
      const pays = fake.requests.filter((r) => r.path === `/v1/invoices/${remote.id}/pay`);
      expect(pays.map((r) => r.body)).toEqual([{ paid_out_of_band: "true" }]);

      // Its credits paid the usage: no credit back, the balance is what the credits left ($105 − $7.20).
      expect(await payments(key)).toEqual({ credits: [], balance: "97.800000" });
      // Stripe then announces the payment; it was already recorded.
      const paidEvent = fake.event("invoice.paid", remote);
      expect((await signed(paidEvent)).body.data).toMatchObject({ handled: true, duplicate: true });
      expect(await payments(key)).toEqual({ credits: [], balance: "97.800000" });
    });

    it("settles a prepaid tenant's invoice when opened without Stripe too", async () => {
      withoutStripe();
      const { key, invoice, opened } = await openInvoice("prepaid");
      expect(opened.body.data).toMatchObject({ status: "paid", stripe_invoice_id: null });
      expect(await payments(key)).toEqual({ credits: [], balance: "97.800000" });
      expect((await h().patch(`/api/v1/billing/invoices/${invoice.id}`, { status: "void" })).status).toBe(409);
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
      // Two meter passes on one day are one row for the instance that day, with its name.
      expect(usage.body.data.by_subject_day).toEqual([
        {
          day: h().clock.now().toISOString().slice(0, 10),
          kind: "instance",
          id: instanceId,
          name: expect.any(String),
          amount_usd: "7.200000",
          amount_micros: "7200000",
          seconds: 7200,
        },
      ]);
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
