import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { queryRows } from "../../src/db/sql.js";
import { describeEachDb } from "../helpers/harness.js";

const DAY = 86_400_000;

/** The list of inputs that once answered 500 or poisoned later reads: each is now a 400 naming the problem. */

describeEachDb("out-of-range values are refused up front", (h) => {
  it("ids and integers above int4 are 400, in the URL, the query and bodies (tenants too)", async () => {
    const { key } = await h().signup();
    for (const path of [
      "/api/v1/jobs?cluster_id=2147483648",
      "/api/v1/billing/invoices/2147483648",
      "/api/v1/clusters/99999999999",
      "/api/v1/tenants/2147483648",
    ]) {
      const res = await h().get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.error, path).toMatch(/at most 2147483647/);
    }
    const tenantRead = await h().get("/api/v1/billing/invoices/2147483648", key);
    expect(tenantRead.status).toBe(400);
    const body = await h().post("/api/v1/ssh-keys", { name: "x", public_key: "ssh-ed25519 AAAA", tenant_id: 2 ** 31 });
    expect(body.status).toBe(400);
    expect(body.body.error).toBe("tenant_id must be at most 2147483647");
  });

  it("integers in the URL are decimal digits only: /tenants/0x1 is not tenant 1", async () => {
    const { tenantId } = await h().signup();
    expect((await h().get(`/api/v1/tenants/${tenantId}`)).status).toBe(200);
    for (const id of [`0x${tenantId.toString(16)}`, `${tenantId}e0`, ` ${tenantId}`, `${tenantId}.0`]) {
      const res = await h().get(`/api/v1/tenants/${encodeURIComponent(id)}`);
      expect(res.status, id).toBe(400);
    }
  });

  it("an empty PATCH is a 400 that says so, on every update route", async () => {
    const region = await h().post("/api/v1/regions", { id: "hard-1", name: "Hardening 1" });
    expect(region.status).toBe(201);
    for (const path of ["/api/v1/regions/hard-1", "/api/v1/images/nonexistent", "/api/v1/clusters/1"]) {
      const res = await h().patch(path, {});
      expect(res.status, path).toBe(400);
      expect(res.body.error).toBe("the request body names no field to change");
    }
    expect((await h().get("/api/v1/regions", null)).status).toBe(200);
  });

  it("an invoice period in year 19 or longer than five years is refused; the lists keep answering", async () => {
    const { tenantId, key } = await h().signup();
    const year19 = await h().post("/api/v1/billing/invoices", {
      tenant_id: tenantId,
      period_start: "0019-01-01T00:00:00Z",
      period_end: "2026-01-01T00:00:00Z",
    });
    expect(year19.status).toBe(400);
    expect(year19.body.error).toMatch(/period_start: must be between 2000-01-01 and 2200-01-01/);
    const long = await h().post("/api/v1/billing/invoices", {
      tenant_id: tenantId,
      period_start: "2001-01-01T00:00:00Z",
      period_end: "2026-01-01T00:00:00Z",
    });
    expect(long.status).toBe(400);
    expect(long.body.error).toBe("an invoice period may be at most 5 years long");
    expect((await h().get("/api/v1/billing/invoices")).status).toBe(200);
    expect((await h().get("/api/v1/billing/invoices", key)).status).toBe(200);
  });

  it("an invoice period outside the data's lifetime is a 400 naming the field", async () => {
    const { tenantId, key } = await h().signup();
    const [tenant] = await queryRows<{ created_at: unknown }>(
      h().ctx.db,
      sql`select created_at from tenants where id = ${tenantId}`,
    );
    const created = new Date(tenant.created_at as string).getTime();
    const [first] = await queryRows<{ created_at: unknown }>(
      h().ctx.db,
      sql`select created_at from ledger_entries order by id limit 1`,
    );
    const firstEntry = new Date(first.created_at as string).getTime(); // the sign-up credit at the latest
    const now = h().ctx.clock.now().getTime();
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: [Record<string, unknown>, RegExp][] = [
      // Ends before the tenant existed (a 2016 typo for 2026).
      [
        { tenant_id: tenantId, period_start: iso(created - 90 * DAY), period_end: iso(created - DAY) },
        new RegExp(`^period_end \\(.+\\) is before tenant ${tenantId} was created`),
      ],
      // For every tenant: ends before the deployment's first ledger entry.
      [
        { period_start: iso(firstEntry - 90 * DAY), period_end: iso(firstEntry - DAY) },
        /^period_end \(.+\) is before the first ledger entry/,
      ],
      // Starts in the future (2062 for 2026).
      [
        { tenant_id: tenantId, period_start: iso(now + DAY), period_end: iso(now + 30 * DAY) },
        /^period_start \(.+\) is in the future$/,
      ],
    ];
    for (const [body, error] of cases) {
      const res = await h().post("/api/v1/billing/invoices", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toMatch(error);
    }
    // A period reaching from before the tenant's creation up to now is fine (it overlaps the tenant's lifetime).
    const ok = await h().post("/api/v1/billing/invoices", {
      tenant_id: tenantId,
      period_start: iso(created - 30 * DAY),
      period_end: iso(now + 1000),
    });
    expect(ok.status, ok.text).toBe(201);
    expect((await h().get("/api/v1/billing/invoices", key)).status).toBe(200);
  });

  it("a metric sample before 2000 is refused; GPU reads keep answering", async () => {
    const cluster = await h().post("/api/v1/clusters", { name: `hard-${h().kind}` });
    const node = await h().post("/api/v1/nodes", {
      cluster_id: cluster.body.data.id,
      hostname: `hard-node-${h().kind}`,
    });
    expect(node.status, node.text).toBe(201);
    const gpus = await h().post("/api/v1/gpus", {
      node_id: node.body.data.id,
      gpus: [{ gpu_index: 0, model: "H100" }],
    });
    expect(gpus.status, gpus.text).toBe(201);
    const gpuId = (await h().get(`/api/v1/gpus?node_id=${node.body.data.id}`)).body.data[0].id;
    const res = await h().post("/api/v1/metrics", {
      metrics: [{ gpu_id: gpuId, utilization_pct: 50, ts: "0019-06-01T00:00:00Z" }],
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/metrics\.0\.ts is before 2000-01-01/);
    expect((await h().get("/api/v1/gpus")).status).toBe(200);
    expect((await h().get(`/api/v1/gpus/${gpuId}`)).status).toBe(200);
  });

  it("a metric sample dated before its GPU was registered is refused, cached GPU or not", async () => {
    const cluster = await h().post("/api/v1/clusters", { name: `born-${h().kind}` });
    const node = await h().post("/api/v1/nodes", { cluster_id: cluster.body.data.id, hostname: `born-${h().kind}` });
    await h().post("/api/v1/gpus", { node_id: node.body.data.id, gpus: [{ gpu_index: 0, model: "H100" }] });
    const gpuId = (await h().get(`/api/v1/gpus?node_id=${node.body.data.id}`)).body.data[0].id;
    const now = h().ctx.clock.now().getTime();
    const at = (msAgo: number) => new Date(now - msAgo).toISOString();
    const send = (...ts: string[]) =>
      h().post("/api/v1/metrics", { metrics: ts.map((t) => ({ gpu_id: gpuId, utilization_pct: 50, ts: t })) });

    // A node clock a minute behind the server's is within the allowance; a day before the GPU existed is not.
    expect((await send(at(60_000))).status).toBe(201);
    for (let pass = 0; pass < 2; pass++) {
      const res = await send(at(0), at(86_400_000));
      expect(res.status, res.text).toBe(400);
      expect(res.body.error).toMatch(new RegExp(`^metrics\\.1\\.ts \\(.+\\) is before GPU ${gpuId} was registered`));
    }
    // Only the accepted sample is stored: the refused batch's valid sample (now) was not half-written.
    const range = `from=${encodeURIComponent(at(3600_000))}&to=${encodeURIComponent(at(-60_000))}&step=3600`;
    const series = await h().get(`/api/v1/gpus/${gpuId}/metrics?${range}`);
    expect(series.status, series.text).toBe(200);
    expect(series.body.data.points.reduce((n: number, p: { samples: number }) => n + p.samples, 0)).toBe(1);
  });

  it("an alert rule scoped to a tenant id above int4 is refused", async () => {
    const res = await h().post("/api/v1/alerts/rules", {
      name: "big",
      type: "quota_breach",
      scope: { tenant_id: 2_147_483_648 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("scope.tenant_id must be at most 2147483647");
  });

  it("a cursor from another list is a 400, not NaN in a query", async () => {
    const { tenantId, key } = await h().signup();
    for (let i = 0; i < 2; i++) {
      const ed = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${"A".repeat(42)}${i} x`;
      await h().post("/api/v1/ssh-keys", { name: `k${i}`, public_key: ed }, key);
    }
    const ssh = await h().get("/api/v1/ssh-keys?limit=1", key);
    await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "1" });
    await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "1" });
    const own = await h().get("/api/v1/billing/transactions?limit=1", key);
    expect(own.body.meta.cursor).toEqual(expect.any(String));
    const next = await h().get(`/api/v1/billing/transactions?limit=1&cursor=${own.body.meta.cursor}`, key);
    expect(next.status).toBe(200);
    const forged = Buffer.from('{"id":"inst_x"}').toString("base64url"); // unbound, but a text id on a numeric list
    const cursors = [ssh.body.meta.cursor, forged];
    expect(cursors.length).toBeGreaterThan(0);
    for (const cursor of cursors) {
      const res = await h().get(`/api/v1/billing/transactions?cursor=${cursor}`, key);
      expect(res.status, cursor).toBe(400);
      expect(res.body.error).toMatch(/cursor/);
    }
  });

  it("a credit grant beyond a million dollars is refused with a clear message", async () => {
    const { tenantId } = await h().signup();
    for (const amount of ["9223372036854775807", "1000000.000001", 1e300]) {
      const res = await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: amount });
      expect(res.status, String(amount)).toBe(400);
      expect(res.body.error).toMatch(/amount_usd/);
    }
    const fine = await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "1000000" });
    expect(fine.status).toBe(201);
  });

  it("names with control, ANSI escape or bidi characters are refused", async () => {
    for (const name of ["evil\u001b[31mred", "tab\there", "rtl\u202eexe.txt", "zero\u200bwidth"]) {
      const res = await h().post("/api/v1/clusters", { name });
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(res.body.error).toBe("name: must not contain control, escape or bidi characters");
    }
  });
});
