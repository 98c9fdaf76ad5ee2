// The first hour in the web console, in a real browser (Debian's chromium through playwright-core) against a real
// server on a fresh PGlite database with the default settings: a customer signs up, launches the cheapest instance
// with the sign-up credit alone, sees it running and the spend chart move; an operator adds a cluster and a node,
// cordons it, submits and cancels a job, edits an alert rule, grants credit in a form and generates an invoice.
// Every page is photographed into test-artifacts/console/ (git-ignored), and every chart is checked for drawn points.

import { existsSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { eq } from "drizzle-orm";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusters, gpuAllocations, gpuMetrics, gpus, nodes, tenants } from "../../src/db/schema/index.js";
import { createHarness, type Harness, OPERATOR_KEY } from "../helpers/harness.js";
import { buildConsoleIfStale } from "./build.js";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const artefacts = process.env.CONSOLE_SCREENSHOTS ?? "test-artifacts/console";
const shot = (page: Page, name: string) => page.screenshot({ path: `${artefacts}/${name}.png`, fullPage: true });
const publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILxA5xHg3GjVQHtkM62t+boNMOKBUfiC6hqEAARLVYDq alice@laptop";

function listen(h: Harness): Promise<{ http: Server; baseURL: string }> {
  return new Promise((resolve) => {
    const http = serve({ fetch: h.app.fetch, hostname: "127.0.0.1", port: 0 }, (info) =>
      resolve({ http: http as Server, baseURL: `http://127.0.0.1:${info.port}` }),
    ) as Server;
  });
}

if (!existsSync(chromiumPath)) {
  console.warn(`console browser tests skipped: no chromium at ${chromiumPath} (apt-get install chromium)`);
}

describe.skipIf(!existsSync(chromiumPath))("web console in a browser", () => {
  let h: Harness;
  let http: Server;
  let baseURL: string;
  let browser: Browser;
  const email = `ada-${Date.now().toString(36)}@example.com`;

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(artefacts, { recursive: true });
    // The default settings: $5 sign-up credit, deploying needs the chosen type's first hour.
    // A hand-moved clock (starting now) lets the test finish provisioning without waiting for it.
    h = await createHarness("pglite", { manualClock: new Date() });
    ({ http, baseURL } = await listen(h));
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    await h?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 820 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    return page;
  }

  describe("a customer", () => {
    let page: Page;
    beforeAll(async () => {
      page = await newPage();
    });
    afterAll(async () => {
      await page?.context().close();
    });

    it("is sent to the log-in page, then signs up and lands on Instances", async () => {
      await page.goto("/");
      await page.waitForURL("**/login");
      await page.getByRole("link", { name: "Create an account" }).click();
      await page.getByLabel("Name").fill("Ada Labs");
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("correct horse battery");
      await page.getByRole("button", { name: "Sign up" }).click();
      await page.waitForURL("**/instances");
      await expect(page.getByRole("heading", { name: "Instances" }).isVisible()).resolves.toBe(true);
      await expect(page.getByTestId("who").textContent()).resolves.toBe("Ada Labs");
    });

    it("keeps the session across a reload (the key is in sessionStorage)", async () => {
      await page.reload();
      await page.getByRole("heading", { name: "Instances" }).waitFor();
      const stored = await page.evaluate(() => sessionStorage.getItem("gpuplane.api_key"));
      expect(stored).toMatch(/^gpk_/);
    });

    it("sees the sign-up credit on Billing, and how to get more without card payments", async () => {
      await expect(page.getByTestId("sidebar-balance").textContent()).resolves.toBe("$5.00");
      await page.getByRole("link", { name: "Billing" }).click();
      await page.getByTestId("balance").waitFor();
      await expect(page.getByTestId("balance").textContent()).resolves.toBe("$5.00");
      await expect(page.getByTestId("credit-help").textContent()).resolves.toMatch(/ask your operator/);
      await expect(page.getByRole("button", { name: "Add credits" }).count()).resolves.toBe(0);
      await page.getByTestId("spend-chart").waitFor();
      await shot(page, "customer-billing-empty");
    });

    it("adds an SSH key and sees its fingerprint", async () => {
      await page.getByRole("link", { name: "SSH keys" }).click();
      await page.getByLabel("Name").fill("alice-laptop");
      await page.getByLabel("Public key").fill(publicKey);
      await page.getByRole("button", { name: "Add key" }).click();
      const row = page.getByTestId("ssh-keys").getByRole("row", { name: /alice-laptop/ });
      await row.waitFor();
      await expect(row.textContent()).resolves.toContain("SHA256:RRhB+7ntVKYGVsnSSsQGakFTDJSJpZjjVYghODp4AdM");
      await shot(page, "customer-ssh-keys");
    });

    it("refuses a malformed SSH key with the server's message", async () => {
      await page.getByLabel("Name").fill("broken");
      await page.getByLabel("Public key").fill("not a key");
      await page.getByRole("button", { name: "Add key" }).click();
      await expect(page.locator("form").getByRole("alert").textContent()).resolves.toMatch(/key/i);
    });

    it("launches the cheapest instance with the sign-up credit alone, and sees it running with its ssh command", async () => {
      await page.getByRole("link", { name: "Instances" }).click();
      await page.getByRole("link", { name: "Launch instance" }).click();
      await page.waitForURL("**/instances/new");
      const offers = page.locator(".offer");
      await offers.first().waitFor();
      // Cheapest first.
      const prices = (await page.locator(".offer-price").allTextContents()).map((p) =>
        Number(p.replace(/[^0-9.]/g, "")),
      );
      expect(prices[0]).toBe(Math.min(...prices));
      await shot(page, "customer-launch");
      await offers.first().click();
      await page.getByLabel("Name").fill("training-run-01");
      await page.getByRole("button", { name: "Launch" }).click();
      await page.waitForURL("**/instances");
      const row = page.getByTestId("instances").getByRole("row", { name: /training-run-01/ });
      await row.waitFor();

      // Provisioning finishes on the status-sync loop; the harness runs its ticks by hand, the page polls.
      h.clock.advance(60_000);
      await h.runWorker("status-sync");
      await row.locator(".badge", { hasText: "running" }).waitFor({ timeout: 15_000 });
      await expect(row.locator("code.ssh").textContent()).resolves.toMatch(/^ssh /);
      await shot(page, "customer-instances");
    });

    it("sees its instance's GPU utilization and memory drawn over time where a fleet node reports them", async () => {
      // The instance runs on an upstream cloud here; give it a GPU on a fleet node, as the fleet provider would,
      // and have the node report that GPU's samples through the metrics API as its agent does every 10 s.
      const instance = (await h.get("/api/v1/instances")).body.data.find((i: any) => i.name === "training-run-01");
      const [cluster] = await h.ctx.db.insert(clusters).values({ name: "metrics-lab" }).returning();
      const [node] = await h.ctx.db
        .insert(nodes)
        // Registered an hour ago: samples dated before a GPU's registration are refused.
        .values({
          clusterId: cluster.id,
          hostname: "metrics-lab-1",
          totalGpus: 1,
          createdAt: new Date(h.clock.now().getTime() - 3600_000),
        })
        .returning();
      const [gpu] = await h.ctx.db
        .insert(gpus)
        .values({ nodeId: node.id, gpuIndex: 0, model: "NVIDIA H100" })
        .returning();
      await h.ctx.db
        .insert(gpuAllocations)
        .values({ gpuId: gpu.id, nodeId: node.id, tenantId: instance.tenantId, instanceId: instance.id });
      const now = h.clock.now().getTime();
      const metrics = [9, 5, 1].map((ago, i) => ({
        gpu_id: gpu.id,
        ts: new Date(now - ago * 60_000).toISOString(),
        utilization_pct: 40 + 20 * i,
        memory_used_mb: 20_000 + 10_000 * i,
      }));
      expect((await h.post("/api/v1/metrics", { metrics })).status).toBe(201);
      try {
        await page.getByRole("link", { name: "Instances" }).click();
        const row = page.getByTestId("instances").getByRole("row", { name: /training-run-01/ });
        await row.getByRole("button", { name: "Metrics" }).click();
        const utilization = page.getByTestId("instance-utilization-chart").locator("[data-point]");
        await utilization.first().waitFor();
        expect(await utilization.count()).toBe(3);
        const values = await utilization.evaluateAll((bars) => bars.map((b) => Number(b.getAttribute("data-value"))));
        expect(values).toEqual([40, 60, 80]);
        const memory = page.getByTestId("instance-memory-chart").locator("[data-point]");
        expect(await memory.count()).toBe(3);
        await shot(page, "customer-instance-metrics");
        await row.getByRole("button", { name: "Metrics" }).click(); // closes the panel
        await page.getByTestId("instance-metrics").waitFor({ state: "detached" });
      } finally {
        // Leave the fleet as the operator's part of the walk expects it: no GPU but the ones it adds.
        await h.ctx.db.delete(gpuMetrics).where(eq(gpuMetrics.gpuId, gpu.id));
        await h.ctx.db.delete(gpus).where(eq(gpus.id, gpu.id));
        await h.ctx.db.delete(nodes).where(eq(nodes.id, node.id));
        await h.ctx.db.delete(clusters).where(eq(clusters.id, cluster.id));
      }
    });

    it("is warned by a banner on every page when auto-stop is near", async () => {
      // $5 at $0.79/h lasts hours: no banner with the default 30-minute warning; with a 10-hour one there is.
      await expect(page.getByTestId("credit-banner").count()).resolves.toBe(0);
      const warn = h.ctx.config.autoStopWarnSeconds;
      h.ctx.config.autoStopWarnSeconds = 10 * 3600;
      try {
        await page.reload();
        const banner = page.getByTestId("credit-banner");
        await expect(banner.textContent()).resolves.toMatch(
          /^Your balance \(\$\d\.\d\d\) lasts about \d+ h( \d+ min)? more at \$0\.79\/h; then running instances are stopped automatically\. Ask your operator to grant credit\.$/,
        );
        await shot(page, "customer-banner");
      } finally {
        h.ctx.config.autoStopWarnSeconds = warn;
      }
    });

    it("sees the spend chart move as the meter charges, usage grouped per instance per day in cents", async () => {
      const pointValue = async () =>
        Number(await page.getByTestId("spend-chart").locator("[data-point]").first().getAttribute("data-value"));
      h.clock.advance(20 * 60_000);
      await h.runWorker("meter");
      await page.getByRole("link", { name: "Billing" }).click();
      await page.getByTestId("spend-chart").locator("[data-point]").first().waitFor();
      const first = await pointValue();
      expect(first).toBeGreaterThan(0);
      // Many meter passes, one usage row for the instance and day, money in cents with the exact amount on hover.
      for (let i = 0; i < 4; i++) {
        h.clock.advance(15_000);
        await h.runWorker("meter");
      }
      h.clock.advance(20 * 60_000);
      await h.runWorker("meter");
      await page.reload();
      await page.getByTestId("spend-chart").locator("[data-point]").first().waitFor();
      expect(await pointValue()).toBeGreaterThan(first);
      const usageRows = page.getByTestId("usage").getByRole("row", { name: /training-run-01/ });
      await expect(usageRows.count()).resolves.toBe(1);
      const amount = usageRows.locator("[data-exact]");
      await expect(amount.textContent()).resolves.toMatch(/^\$\d+\.\d\d$/);
      await expect(amount.getAttribute("title")).resolves.toMatch(/^\$\d+\.\d{6} \(/);
      await expect(page.getByTestId("usage-total").textContent()).resolves.toMatch(/\$\d+\.\d\d$/);
      await expect(page.getByTestId("burn").textContent()).resolves.toMatch(/\/ h$/);

      const download = page.waitForEvent("download");
      await page.getByRole("button", { name: "Export usage CSV" }).click();
      const csv = await readFile(await (await download).path(), "utf8");
      expect(csv.split("\r\n")[0]).toBe("day,kind,id,name,seconds,amount_usd,amount_micros");
      expect(csv).toMatch(/training-run-01,\d+,\d+\.\d{6},\d+/);
      await shot(page, "customer-billing");

      await page.getByRole("link", { name: "Instances" }).click();
      const row = page.getByTestId("instances").getByRole("row", { name: /training-run-01/ });
      await row.getByRole("button", { name: "Stop" }).click();
      await row.locator(".badge", { hasText: /stopp/ }).waitFor();
      await row
        .getByRole("button", { name: "Start" })
        .or(row.locator(".badge", { hasText: "stopping" }))
        .waitFor();
    });

    it("fits a phone's screen: the navigation and the instance list do not overflow sideways", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page
        .getByTestId("instances")
        .getByRole("row", { name: /training-run-01/ })
        .waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await shot(page, "customer-phone");
      await page.setViewportSize({ width: 1280, height: 820 });
    });

    it("deletes the instance after confirming, and it leaves the list", async () => {
      const row = page.getByTestId("instances").getByRole("row", { name: /training-run-01/ });
      page.once("dialog", (dialog) => void dialog.accept());
      await row.getByRole("button", { name: "Delete" }).click();
      await h.runWorker("status-sync");
      await page.reload();
      await page.getByRole("heading", { name: "Instances" }).waitFor();
      await page
        .getByText("No instances yet")
        .or(page.locator(".badge", { hasText: "deleting" }))
        .waitFor();
    });

    it("joins the waitlist when a GPU is sold out, and gets the instance when capacity frees up", async () => {
      // The sign-up credit is spent below a B200's first hour: the operator grants more, as the Billing page says.
      const [tenant] = await h.ctx.db.select().from(tenants).where(eq(tenants.email, email));
      expect((await h.post(`/api/v1/tenants/${tenant.id}/credits`, { amount_usd: "50" })).status).toBe(201);
      // The simulated upstream runs out of B200s everywhere (a fault the simulator offers tests).
      const simulator = h.ctx.services.providers.simulator!;
      const regions = Object.keys(simulator.capacityByRegion);
      for (const region of regions) simulator.setCapacity(region, "B200", 0);

      await page.getByRole("link", { name: "Instances" }).click();
      await page.getByRole("link", { name: "Launch instance" }).click();
      const offer = page.locator(".offer", { hasText: "1× B200" });
      await offer.getByText("sold out").waitFor();
      await offer.click();
      await page.getByLabel("Name").fill("b200-run");
      await page.getByRole("button", { name: "Launch" }).click();
      await expect(page.getByRole("alert").textContent()).resolves.toMatch(/no capacity/);
      await page.getByRole("button", { name: "Join the waitlist" }).click();
      await page.waitForURL("**/waitlist");
      const row = page.getByTestId("waitlist").getByRole("row", { name: /B200/ });
      await row.locator(".badge", { hasText: "waiting" }).waitFor();
      await expect(row.textContent()).resolves.toContain("launch b200-run");
      await shot(page, "customer-waitlist");

      for (const region of regions) simulator.setCapacity(region, "B200", 8);
      await h.runWorker("waitlist");
      await page.reload();
      await row.locator(".badge", { hasText: /deployed|fulfilled/ }).waitFor();
      await page.getByRole("link", { name: "Instances" }).click();
      await page
        .getByTestId("instances")
        .getByRole("row", { name: /b200-run/ })
        .waitFor();
    });

    it("adds a webhook endpoint and sees its signing secret once", async () => {
      await page.getByRole("link", { name: "Webhooks" }).click();
      await page.getByLabel("URL").fill("https://example.com/hooks/gpuplane");
      await page.getByLabel("Events").fill("instance.*");
      await page.getByRole("button", { name: "Add endpoint" }).click();
      await expect(page.getByTestId("secret").textContent()).resolves.toMatch(/^whsec_/);
      const row = page.getByTestId("webhooks").getByRole("row", { name: /example\.com/ });
      await row.waitFor();
      await expect(row.textContent()).resolves.toContain("instance.*");
      await shot(page, "customer-webhooks");
      await page.getByRole("button", { name: "Done" }).click();
    });

    it("creates an API key, sees the secret once, and revokes it; console sessions are not listed", async () => {
      await page.getByRole("link", { name: "API keys" }).click();
      await page
        .getByTestId("api-keys")
        .getByRole("row", { name: /default/ })
        .waitFor();
      await expect(
        page
          .getByTestId("api-keys")
          .getByRole("row", { name: /console session/ })
          .count(),
      ).resolves.toBe(0);
      await shot(page, "customer-api-keys");
      await page.getByLabel("Label").fill("ci-pipeline");
      await page.getByRole("button", { name: "Create key" }).click();
      await expect(page.getByTestId("secret").textContent()).resolves.toMatch(/^gpk_[0-9a-f]{64}$/);
      const row = page.getByTestId("api-keys").getByRole("row", { name: /ci-pipeline/ });
      await row.waitFor();
      // A key made in the console is tied to the person who was logged in.
      await expect(row.textContent()).resolves.toContain(`made in the console by ${email}`);
      page.once("dialog", (dialog) => void dialog.accept());
      await row.getByRole("button", { name: "Revoke" }).click();
      await row.waitFor({ state: "detached" });
      await page.getByRole("button", { name: "Done" }).click();
      await expect(page.getByTestId("secret").count()).resolves.toBe(0);
    });

    it("logs out and back in with email and password", async () => {
      await page.getByRole("button", { name: "Log out" }).click();
      await page.waitForURL("**/login");
      await expect(page.evaluate(() => sessionStorage.getItem("gpuplane.api_key"))).resolves.toBeNull();
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("wrong password!");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByRole("alert").waitFor();
      await page.getByLabel("Password").fill("correct horse battery");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL("**/instances");
    });
  });

  describe("an operator", () => {
    let page: Page;
    beforeAll(async () => {
      page = await newPage();
    });
    afterAll(async () => {
      await page?.context().close();
    });

    it("refuses a wrong key, then logs in with the operator key and lands on the dashboard", async () => {
      await page.goto("/login/key");
      await page.getByLabel("API key").fill(`gpk_${"f".repeat(64)}`);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByRole("alert").waitFor();

      await page.getByLabel("API key").fill(OPERATOR_KEY);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL("**/operator");
      await expect(page.getByTestId("who").textContent()).resolves.toBe("Operator");
      await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    });

    it("sees the dashboard: KPIs, revenue drawn per day by GPU model, and revenue leakage", async () => {
      const kpis = page.getByTestId("kpis");
      await kpis.getByText("Running instances").waitFor();
      expect(await kpis.locator(".kpi").count()).toBeGreaterThan(5);
      await expect(kpis.textContent()).resolves.toContain("Revenue (USD)");
      await page.getByTestId("leakage").getByText("Negative balances").waitFor();
      // The customer's instance was charged: at least one bar for its GPU model.
      const bars = page.getByTestId("revenue-chart").locator("[data-point]");
      await bars.first().waitFor();
      expect(Number(await bars.first().getAttribute("data-value"))).toBeGreaterThan(0);
      await page.getByLabel("Window").selectOption("7");
      await page.getByRole("heading", { name: /Revenue leakage/ }).waitFor();
      await shot(page, "operator-dashboard");
    });

    it("pages through the tenants to find the customer who signed up first", async () => {
      for (let i = 1; i <= 50; i++) {
        const res = await h.post("/api/v1/tenants", { name: `Lab ${i}`, gpu_quota: 8 });
        expect(res.status).toBe(201);
      }
      await page.getByRole("link", { name: "Tenants" }).click();
      const list = page.getByTestId("tenants");
      await list.getByRole("row", { name: /Lab 50/ }).waitFor();
      await expect(page.locator(".pager").textContent()).resolves.toContain("51 in all");
      await page.getByRole("button", { name: "Next" }).click();
      await list.getByRole("row", { name: new RegExp(email) }).waitFor();
      await expect(list.getByRole("row", { name: /Lab 50/ }).count()).resolves.toBe(0);
      await page.getByRole("button", { name: "Previous" }).click();
      await list.getByRole("row", { name: /Lab 50/ }).waitFor();
    });

    it("grants the customer credit in a form, and sees its balance, billing mode and quota use", async () => {
      await page.getByRole("button", { name: "Next" }).click();
      const row = page.getByTestId("tenants").getByRole("row", { name: new RegExp(email) });
      await row.waitFor();
      await expect(row.textContent()).resolves.toContain("prepaid");
      await row
        .getByTestId("quota-use")
        .getByText(/\d+ of 8 GPUs/)
        .waitFor();
      const [tenant] = await h.ctx.db.select().from(tenants).where(eq(tenants.email, email));
      const micros = async () =>
        BigInt((await h.get(`/api/v1/billing/balance?tenant_id=${tenant.id}`)).body.data.balance_micros);
      const before = await micros();
      await row.getByRole("button", { name: "Grant credit" }).click();
      const form = page.getByTestId("grant-form");
      await form.getByLabel("Amount (USD)").fill("25");
      await form.getByLabel("Note").fill("welcome credit");
      await form.getByRole("button", { name: "Grant" }).click();
      await expect(page.getByTestId("granted").textContent()).resolves.toBe("Granted $25 to Ada Labs.");
      expect((await micros()) - before).toBe(25_000_000n);
      await shot(page, "operator-tenants");
    });

    it("adds a cluster and a node in forms, cordons the node, and gets a join command to paste", async () => {
      await page.getByRole("link", { name: "Fleet" }).click();
      await page.getByLabel("Cluster name").fill("us-east-a");
      await page.getByLabel("Region").fill("us-east-1");
      await page.getByRole("button", { name: "Add cluster" }).click();
      const clusterRow = page.getByTestId("clusters").getByRole("row", { name: /us-east-a/ });
      await clusterRow.waitFor();

      await page.locator("select[name=cluster_id]").selectOption({ label: "us-east-a" });
      await page.getByLabel("Hostname").fill("gpu-node-01");
      await page.getByLabel("IP address").fill("10.0.0.11");
      await page.getByLabel("GPUs").fill("8");
      await page.getByLabel("CPU cores").fill("128");
      await page.getByLabel("RAM (GB)").fill("2048");
      await page.getByRole("button", { name: "Add node" }).click();
      const nodeRow = page.getByTestId("nodes").getByRole("row", { name: /gpu-node-01/ });
      await nodeRow.waitFor();
      await expect(nodeRow.textContent()).resolves.toContain("128 cores");

      // The node's GPUs, as its agent would register them: the heat map draws one cell each.
      const node = (await h.get("/api/v1/nodes")).body.data.find((n: any) => n.hostname === "gpu-node-01");
      const gpus = Array.from({ length: 8 }, (_, i) => ({ gpu_index: i, model: "NVIDIA H100 80GB HBM3" }));
      const registered = (await h.post("/api/v1/gpus", { node_id: node.id, gpus })).body.data;
      expect(registered).toHaveLength(8);
      // And their utilization over the last minutes, as the agent reports it every 10 s (since it registered them:
      // samples from before a GPU's registration are refused).
      h.clock.advance(6 * 60_000);
      const now = h.clock.now().getTime();
      const metrics = registered.flatMap((g: any, i: number) =>
        [6, 4, 2].map((ago) => ({
          gpu_id: g.id,
          ts: new Date(now - ago * 60_000).toISOString(),
          utilization_pct: 10 * i + ago,
        })),
      );
      expect((await h.post("/api/v1/metrics", { metrics })).status).toBeLessThan(300);

      await nodeRow.getByRole("button", { name: "Cordon" }).click();
      await nodeRow.locator(".badge", { hasText: "cordoned" }).waitFor();
      await page.reload();
      const cells = page.getByTestId("gpu-heatmap").locator("[data-point]");
      await cells.first().waitFor();
      await expect(cells.count()).resolves.toBe(8);
      await expect(cells.first().getAttribute("data-state")).resolves.toBe("draining");
      await expect(cells.nth(7).getAttribute("data-value")).resolves.toBe("72"); // GPU 7's newest sample
      const utilization = page.getByTestId("utilization-chart").locator("[data-point]");
      await utilization.first().waitFor();
      expect(await utilization.count()).toBeGreaterThanOrEqual(2);
      expect(Number(await utilization.first().getAttribute("data-value"))).toBeGreaterThan(0);

      await clusterRow.getByRole("button", { name: "Join token" }).click();
      await expect(page.getByTestId("join-command").locator("code").textContent()).resolves.toMatch(
        /^curl -fsSL http:\/\/127\.0\.0\.1:\d+\/agent\/install\.sh \| sudo sh -s -- --token gpj_[0-9a-f]{64}$/,
      );
      await expect(page.getByTestId("join-command-warning").textContent()).resolves.toMatch(
        /loopback address.*GPUPLANE_PUBLIC_URL/,
      );
      await shot(page, "operator-fleet");
      await nodeRow.getByRole("button", { name: "Uncordon" }).click();
      await nodeRow.locator(".badge", { hasText: "active" }).waitFor();
    });

    it("submits a job in a form and cancels it", async () => {
      await page.getByRole("link", { name: "Jobs" }).click();
      await page.getByLabel("Job name").fill("llama-finetune");
      await page.getByLabel("Cluster").selectOption({ label: "us-east-a" });
      await page.getByLabel("Tenant").selectOption({ label: "Ada Labs" });
      await page.getByLabel("GPU count").fill("2");
      await page.getByLabel("Command").fill("python train.py --epochs 3");
      await page.getByLabel("Image").fill("nvcr.io/nvidia/pytorch:24.05-py3");
      await page.getByRole("button", { name: "Submit job" }).click();
      const row = page.getByTestId("jobs").getByRole("row", { name: /llama-finetune/ });
      await row.waitFor();
      // What runs, and where: the command and the image the job was submitted with.
      await expect(row.textContent()).resolves.toContain("nvcr.io/nvidia/pytorch:24.05-py3");
      await expect(row.textContent()).resolves.toContain("python train.py --epochs 3");
      await expect(row.textContent()).resolves.toContain("Ada Labs"); // tenants by name, not id
      page.once("dialog", (dialog) => void dialog.accept());
      await row.getByRole("button", { name: "Cancel" }).click();
      await row.locator(".badge", { hasText: "cancelled" }).waitFor();
      await shot(page, "operator-jobs");
    });

    it("edits an alert rule's threshold and disables another", async () => {
      await page.getByRole("link", { name: "Alerts" }).click();
      const rule = page.getByTestId("alert-rules").getByRole("row", { name: /Tenant at GPU quota/ });
      await rule.waitFor();
      await page.getByText("No alerts have fired.").waitFor();
      await rule.getByRole("button", { name: "Edit" }).click();
      const form = page.getByTestId("rule-form");
      await form.getByLabel("Threshold").fill("90");
      await form.getByRole("button", { name: "Save rule" }).click();
      await rule.getByText("90% of quota").waitFor();
      const idle = page.getByTestId("alert-rules").getByRole("row", { name: /GPU allocated but idle/ });
      await idle.getByRole("button", { name: "Disable" }).click();
      await idle.locator(".badge", { hasText: "disabled" }).waitFor();
      const rules = (await h.get("/api/v1/alerts/rules")).body.data;
      expect(rules.find((r: any) => r.name === "Tenant at GPU quota").threshold).toBe(90);
      expect(rules.find((r: any) => r.name === "GPU allocated but idle").enabled).toBe(false);
      await shot(page, "operator-alerts");
    });

    it("generates an invoice for the last 30 days and opens it (a prepaid tenant's is settled from its credit)", async () => {
      await page.getByRole("link", { name: "Invoices" }).click();
      await page.getByLabel("Tenant").selectOption({ label: "Ada Labs" });
      await page.getByLabel("Period (last days)").fill("30");
      await page.getByRole("button", { name: "Generate" }).click();
      const row = page.getByTestId("invoices").getByRole("row", { name: /Ada Labs/ });
      await row.locator(".badge", { hasText: "draft" }).waitFor();
      await expect(row.textContent()).resolves.toMatch(/\$\d+\.\d\d/);
      await shot(page, "operator-invoices-generated");
      await row.getByRole("button", { name: "Open" }).click();
      await row.locator(".badge", { hasText: "paid" }).waitFor();
      await shot(page, "operator-invoices");
    });

    it("sees every tenant's instances by tenant name, fitting 1280 px with Delete in view", async () => {
      await page.getByRole("link", { name: "Instances" }).click();
      const row = page.getByTestId("instances").getByRole("row", { name: /b200-run/ });
      await row.waitFor();
      await expect(row.textContent()).resolves.toContain("Ada Labs");
      const overflow = await page
        .locator(".table-wrap")
        .first()
        .evaluate((el) => el.scrollWidth - el.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const box = await row.getByRole("button", { name: "Delete" }).boundingBox();
      expect(box && box.x + box.width).toBeLessThanOrEqual(1280);
      await shot(page, "operator-instances");
      for (const [link, name] of [
        ["Webhooks", "operator-webhooks"],
        ["API keys", "operator-api-keys"],
      ] as const) {
        await page.getByRole("link", { name: link }).click();
        await page.getByRole("heading", { name: link }).waitFor();
        await shot(page, name);
      }
    });

    it("fits a phone's screen on the fleet and tenants pages", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const link of ["Fleet", "Tenants", "Jobs"]) {
        await page.getByRole("link", { name: link }).click();
        await page.getByRole("heading", { name: link, exact: true }).waitFor();
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, link).toBeLessThanOrEqual(0);
      }
      await shot(page, "operator-phone-jobs");
      await page.getByRole("link", { name: "Fleet" }).click();
      await page.getByTestId("gpu-heatmap").waitFor();
      await shot(page, "operator-phone-fleet");
      await page.setViewportSize({ width: 1280, height: 820 });
    });
  });
});
