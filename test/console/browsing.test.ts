// The console as an API citizen and honest charts, in a real browser (Debian's chromium through playwright-core)
// against a real server with the default rate limits: a person clicking through every page for a minute is never
// refused; a refusal keeps what was shown and says it is retrying; samples of 0 are drawn at 0 and a step without
// samples is a gap; the heat map marks a GPU that is allocated and idle.

import { existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gpuAllocations } from "../../src/db/schema/index.js";
import { createHarness, type Harness, OPERATOR_KEY } from "../helpers/harness.js";
import { buildConsoleIfStale } from "./build.js";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const artefacts = process.env.CONSOLE_SCREENSHOTS ?? "test-artifacts/console";
const shot = (page: Page, name: string) => page.screenshot({ path: `${artefacts}/${name}.png`, fullPage: true });
const password = "correct horse battery";

function listen(h: Harness): Promise<{ http: Server; baseURL: string }> {
  return new Promise((resolve) => {
    const http = serve({ fetch: h.app.fetch, hostname: "127.0.0.1", port: 0 }, (info) =>
      resolve({ http: http as Server, baseURL: `http://127.0.0.1:${info.port}` }),
    ) as Server;
  });
}

/** A browser page logged in with `key` (as the log-in page leaves it: the key in sessionStorage). */
async function pageWithKey(browser: Browser, baseURL: string, key: string): Promise<Page> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
  await context.addInitScript((k) => sessionStorage.setItem("gpuplane.api_key", k), key);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

/** A console session, as the log-in form gets one. */
async function sessionFor(h: Harness): Promise<string> {
  const email = `browse-${Date.now().toString(36)}@example.com`;
  await h.signup(email);
  const login = await h.post("/api/v1/auth/login", { email, password }, null);
  expect(login.status).toBe(200);
  return login.body.data.api_key.key as string;
}

describe.skipIf(!existsSync(chromiumPath))("the console in a browser, at the default rate limits", () => {
  let browser: Browser;

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(artefacts, { recursive: true });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe("with the shipped limits", () => {
    let h: Harness;
    let http: Server;
    let baseURL: string;
    beforeAll(async () => {
      // "{}": no overrides, so the billing class allows 10 requests a minute as shipped.
      h = await createHarness("pglite", { env: { GPUPLANE_RATE_LIMITS: "{}" } });
      ({ http, baseURL } = await listen(h));
    });
    afterAll(async () => {
      await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
      await h?.close();
    });

    it("lets a person click through every customer page for a minute without a single 429", async () => {
      const page = await pageWithKey(browser, baseURL, await sessionFor(h));
      const refused: string[] = [];
      let billingReads = 0;
      page.on("response", (res) => {
        const path = new URL(res.url()).pathname;
        if (!path.startsWith("/api/v1/")) return;
        if (res.status() === 429) refused.push(path);
        if (path.startsWith("/api/v1/billing/") && res.request().method() === "GET") billingReads++;
      });
      await page.goto("/instances");
      const pages = ["Instances", "Volumes", "Waitlist", "SSH keys", "Billing", "API keys", "Webhooks"];
      const end = Date.now() + 60_000;
      for (let i = 0; Date.now() < end; i++) {
        await page
          .locator("nav")
          .getByRole("link", { name: pages[i % pages.length], exact: true })
          .click();
        await page.locator("h1").first().waitFor();
        await page.waitForTimeout(700);
      }
      await shot(page, "browsed-a-minute");
      expect(refused).toEqual([]);
      // More billing reads than a program's billing class allows in a minute: the console's own class carried them.
      expect(billingReads).toBeGreaterThan(10);
      await page.context().close();
    }, 120_000);
  });

  describe("with a console class of a few requests", () => {
    let h: Harness;
    let http: Server;
    let baseURL: string;
    beforeAll(async () => {
      h = await createHarness("pglite", { env: { GPUPLANE_RATE_LIMITS: JSON.stringify({ console: 12 }) } });
      ({ http, baseURL } = await listen(h));
    });
    afterAll(async () => {
      await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
      await h?.close();
    });

    it("keeps the balance it showed when refused, says it is retrying, never claims there is no usage, and never logs the person out", async () => {
      const key = await sessionFor(h);
      const page = await pageWithKey(browser, baseURL, key);
      await page.goto("/instances");
      const balance = await page.getByTestId("sidebar-balance").textContent();
      expect(balance).toMatch(/^\$\d/);
      // Spend the rest of the minute's budget from elsewhere (another tab of the same person).
      let status = 200;
      for (let i = 0; i < 20 && status !== 429; i++) status = (await h.get("/api/v1/billing/balance", key)).status;
      expect(status).toBe(429);

      // Billing's usage has never been read: refused, it says it is retrying instead of "No usage"; the balance
      // already shown in the sidebar stays, on the page too.
      await page.locator("nav").getByRole("link", { name: "Billing", exact: true }).click();
      await page
        .getByText(/Could not load the latest .*retrying/)
        .first()
        .waitFor();
      await shot(page, "billing-rate-limited");
      await expect(page.getByTestId("balance").textContent()).resolves.toBe(balance);
      await expect(page.getByTestId("sidebar-balance").textContent()).resolves.toBe(balance);
      await expect(page.getByText("No usage in the last 30 days.").count()).resolves.toBe(0);
      await expect(page.getByText(/No usage yet/).count()).resolves.toBe(0);
      await expect(page.locator(".note.error").count()).resolves.toBe(0);

      // A reload while refused keeps the person logged in: the key is asked about again, not forgotten.
      await page.reload();
      await page.waitForTimeout(3000);
      expect(new URL(page.url()).pathname).toBe("/billing");
      await expect(page.evaluate(() => sessionStorage.getItem("gpuplane.api_key"))).resolves.toBe(key);
      await page.context().close();
    }, 60_000);
  });

  describe("charts", () => {
    let h: Harness;
    let http: Server;
    let baseURL: string;
    beforeAll(async () => {
      h = await createHarness("pglite", { manualClock: new Date() });
      ({ http, baseURL } = await listen(h));
    });
    afterAll(async () => {
      await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
      await h?.close();
    });

    it("draws an idle fleet's samples of 0% as a line at 0, a step without samples as a gap, and marks an allocated GPU at 0%", async () => {
      const cluster = (await h.post("/api/v1/clusters", { name: "idle-a", region: "us-east-1" })).body.data;
      const node = (
        await h.post("/api/v1/nodes", {
          cluster_id: cluster.id,
          hostname: "idle-node",
          ip_address: "10.0.0.9",
          total_gpus: 2,
        })
      ).body.data;
      const registered = (
        await h.post("/api/v1/gpus", {
          node_id: node.id,
          gpus: [0, 1].map((i) => ({ gpu_index: i, model: "NVIDIA H100 80GB HBM3", vram_mb: 81_559 })),
        })
      ).body.data;
      expect(registered).toHaveLength(2);
      // GPU 0 is someone's and does nothing; GPU 1 is free. Both report 0% at 20, 18 and 4 minutes ago (none between).
      const { tenantId } = await h.signup();
      await h.ctx.db.insert(gpuAllocations).values({ gpuId: registered[0].id, nodeId: node.id, tenantId, jobId: null });
      h.clock.advance(21 * 60_000);
      const now = h.clock.now().getTime();
      const metrics = registered.flatMap((g: any) =>
        [20, 18, 4].map((ago) => ({
          gpu_id: g.id,
          ts: new Date(now - ago * 60_000).toISOString(),
          utilization_pct: 0,
          memory_used_mb: g.gpu_index === 0 ? 40_000 : 0,
        })),
      );
      expect((await h.post("/api/v1/metrics", { metrics })).status).toBeLessThan(300);

      const page = await pageWithKey(browser, baseURL, OPERATOR_KEY);
      await page.goto("/operator/fleet");
      const chart = page.getByTestId("utilization-chart");
      await chart.locator("[data-point]").first().waitFor();
      const values = await chart
        .locator("[data-point]")
        .evaluateAll((ps) => ps.map((p) => p.getAttribute("data-value")));
      expect(values.length).toBeGreaterThanOrEqual(3);
      expect(values.every((v) => v === "0")).toBe(true);
      // 18 → 4 minutes ago has no sample: the line is lifted there, so it is two pieces.
      await expect(chart.locator("[data-segment]").count()).resolves.toBe(2);
      await expect(page.getByText(/No GPU metrics/).count()).resolves.toBe(0);

      const cells = page.getByTestId("gpu-heatmap").locator("[data-point]");
      await expect(cells.count()).resolves.toBe(2);
      await expect(cells.nth(0).getAttribute("data-idle-allocated")).resolves.toBe("");
      await expect(cells.nth(1).getAttribute("data-idle-allocated")).resolves.toBeNull();
      expect(Number(await cells.nth(0).getAttribute("data-memory"))).toBeCloseTo((40_000 / 81_559) * 100, 1);
      await shot(page, "fleet-idle");
      await page.context().close();
    }, 60_000);
  });
});
