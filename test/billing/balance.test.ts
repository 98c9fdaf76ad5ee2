import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { appendLedgerEntry } from "../../src/domain/billing/ledger.js";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb("billing balance, transactions and grants", (h) => {
  it("shows the sign-up credit as an exact string and a display number", async () => {
    const { key, tenantId } = await h().signup();
    const res = await h().get("/api/v1/billing/balance", key);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      tenant_id: tenantId,
      balance_usd: 5,
      balance: "5.000000",
      balance_micros: "5000000",
      currency: "usd",
      // No fixed floor by default: deploying needs the chosen type's first hour, which $5 pays for the cheaper ones.
      minimum_balance_usd: 0,
      first_stretch_minutes: 60,
      can_deploy: true,
      burn_rate_usd_per_hour: null,
      runway_seconds: null,
      auto_stop_warning: false,
      topups_enabled: false,
    });
    const bearer = await h().request("GET", "/api/v1/billing/balance", {
      key: null,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(bearer.body.data.balance).toBe("5.000000");
  });

  it("lets an operator grant credits, exactly, once per Idempotency-Key", async () => {
    const { key, tenantId } = await h().signup();
    const body = { amount_usd: "20.123456", description: "welcome" };
    const headers = { "idempotency-key": `grant-${tenantId}` };
    const first = await h().post(`/api/v1/tenants/${tenantId}/credits`, body, undefined, headers);
    expect(first.status).toBe(201);
    expect(first.body.data.transaction).toMatchObject({
      kind: "grant",
      amount_usd: "20.123456",
      description: "welcome",
    });
    expect(first.body.data.balance.balance).toBe("25.123456");
    const again = await h().post(`/api/v1/tenants/${tenantId}/credits`, body, undefined, headers);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    const balance = await h().get("/api/v1/billing/balance", key);
    expect(balance.body.data).toMatchObject({ balance: "25.123456", balance_usd: 25.123456, can_deploy: true });
    const number = await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: 0.1 });
    expect(number.body.data.balance.balance).toBe("25.223456");
  });

  it("refuses bad grants: a tenant key, a negative or over-precise amount, an unknown tenant", async () => {
    const { key, tenantId } = await h().signup();
    expect((await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "10" }, key)).status).toBe(403);
    const negative = await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "-1" });
    expect(negative.status).toBe(400);
    expect(negative.body.error).toContain("amount_usd");
    const precise = await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "1.0000001" });
    expect(precise.status).toBe(400);
    expect(precise.body.error).toContain("amount_usd");
    expect((await h().post("/api/v1/tenants/999999/credits", { amount_usd: "1" })).status).toBe(404);
  });

  it("lists transactions newest first with cursor pagination and a kind filter", async () => {
    const { key, tenantId } = await h().signup();
    for (const amount of ["1", "2", "3"]) {
      await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: amount });
    }
    const page1 = await h().get("/api/v1/billing/transactions?limit=2", key);
    expect(page1.status).toBe(200);
    expect(page1.body.meta).toMatchObject({ total: 4, has_more: true });
    expect(page1.body.data.map((t: any) => t.amount_usd)).toEqual(["3.000000", "2.000000"]);
    expect(page1.body.data[0].balance_after_usd).toBe("11.000000");
    const page2 = await h().get(`/api/v1/billing/transactions?limit=2&cursor=${page1.body.meta.cursor}`, key);
    expect(page2.body.data.map((t: any) => t.kind)).toEqual(["grant", "signup_credit"]);
    expect(page2.body.meta.has_more).toBe(false);
    const grants = await h().get("/api/v1/billing/transactions?kind=signup_credit", key);
    expect(grants.body.data).toHaveLength(1);
  });

  it("keeps tenants apart: another tenant's balance and ledger are 404", async () => {
    const a = await h().signup();
    const b = await h().signup();
    await h().post(`/api/v1/tenants/${b.tenantId}/credits`, { amount_usd: "50" });
    expect((await h().get(`/api/v1/billing/balance?tenant_id=${b.tenantId}`, a.key)).status).toBe(404);
    expect((await h().get(`/api/v1/billing/transactions?tenant_id=${b.tenantId}`, a.key)).status).toBe(404);
    const own = await h().get("/api/v1/billing/transactions", a.key);
    expect(own.body.data.every((t: any) => t.tenant_id === a.tenantId)).toBe(true);
    const operator = await h().get(`/api/v1/billing/balance?tenant_id=${b.tenantId}`);
    expect(operator.body.data.balance).toBe("55.000000");
    expect((await h().get("/api/v1/billing/balance")).status).toBe(400);
  });

  it("writes no ledger entry for a tenant that does not exist (the ledger has no foreign key; the writer checks)", async () => {
    const write = h().ctx.db.transaction((tx) =>
      appendLedgerEntry(tx, { tenantId: 987654, kind: "grant", amountMicros: 1_000_000n, description: "nobody" }),
    );
    await expect(write).rejects.toMatchObject({ code: "NOT_FOUND" });
    const rows: any = await h().ctx.db.execute(sql`select count(*) as n from ledger_entries where tenant_id = 987654`);
    expect(Number((rows.rows ?? rows)[0].n)).toBe(0);
  });
});
