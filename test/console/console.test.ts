// The web console in a real browser (Debian's chromium through playwright-core) against a real server on a fresh
// PGlite database: a customer signs up, sees the credit, adds an SSH key, launches and stops an instance, creates
// and revokes an API key; an operator logs in with the operator key and sees the dashboard.

import { existsSync } from "node:fs";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness, OPERATOR_KEY } from "../helpers/harness.js";
import { buildConsoleIfStale } from "./build.js";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const screenshots = process.env.CONSOLE_SCREENSHOTS ?? "/tmp/gpuplane-console";
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
    // Enough sign-up credit to pass the $20 minimum for launching.
    // A hand-moved clock (starting now) lets the test finish provisioning without waiting for it.
    h = await createHarness("pglite", { env: { GPUPLANE_SIGNUP_CREDIT_USD: "50" }, manualClock: new Date() });
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

    it("sees the sign-up credit on Billing", async () => {
      await page.getByRole("link", { name: "Billing" }).click();
      await page.getByTestId("balance").waitFor();
      await expect(page.getByTestId("balance").textContent()).resolves.toBe("$50.00");
      await page.screenshot({ path: `${screenshots}-billing.png`, fullPage: true });
    });

    it("adds an SSH key and sees its fingerprint", async () => {
      await page.getByRole("link", { name: "SSH keys" }).click();
      await page.getByLabel("Name").fill("alice-laptop");
      await page.getByLabel("Public key").fill(publicKey);
      await page.getByRole("button", { name: "Add key" }).click();
      const row = page.getByTestId("ssh-keys").getByRole("row", { name: /alice-laptop/ });
      await row.waitFor();
      await expect(row.textContent()).resolves.toContain("SHA256:RRhB+7ntVKYGVsnSSsQGakFTDJSJpZjjVYghODp4AdM");
    });

    it("refuses a malformed SSH key with the server's message", async () => {
      await page.getByLabel("Name").fill("broken");
      await page.getByLabel("Public key").fill("not a key");
      await page.getByRole("button", { name: "Add key" }).click();
      await expect(page.locator("form").getByRole("alert").textContent()).resolves.toMatch(/key/i);
    });

    it("launches an instance, sees it running with its ssh command, and stops it", async () => {
      await page.getByRole("link", { name: "Instances" }).click();
      await page.getByRole("link", { name: "Launch instance" }).click();
      await page.waitForURL("**/instances/new");
      const offers = page.locator(".offer");
      await offers.first().waitFor();
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
      await page.screenshot({ path: `${screenshots}-instances.png`, fullPage: true });

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
      await page.screenshot({ path: `${screenshots}-phone.png`, fullPage: true });
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
      await page.getByRole("button", { name: "Done" }).click();
    });

    it("creates an API key, sees the secret once, and revokes it", async () => {
      await page.getByRole("link", { name: "API keys" }).click();
      await page.getByLabel("Label").fill("ci-pipeline");
      await page.getByRole("button", { name: "Create key" }).click();
      await expect(page.getByTestId("secret").textContent()).resolves.toMatch(/^gpk_[0-9a-f]{64}$/);
      const row = page.getByTestId("api-keys").getByRole("row", { name: /ci-pipeline/ });
      await row.waitFor();
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

    it("sees the dashboard: KPIs, revenue and revenue leakage", async () => {
      const kpis = page.getByTestId("kpis");
      await kpis.getByText("Running instances").waitFor();
      expect(await kpis.locator(".kpi").count()).toBeGreaterThan(5);
      await expect(kpis.textContent()).resolves.toContain("Revenue (USD)");
      await page.getByTestId("leakage").getByText("Negative balances").waitFor();
      await page.getByLabel("Window").selectOption("7");
      await page.getByRole("heading", { name: /Revenue leakage/ }).waitFor();
      await page.screenshot({ path: `${screenshots}-dashboard.png`, fullPage: true });
    });

    it("pages through the tenants to find the customer who signed up first", async () => {
      for (let i = 1; i <= 50; i++) {
        const res = await h.post("/api/v1/tenants", { name: `Lab ${i}`, gpu_quota: 8 });
        expect(res.status).toBe(201);
      }
      await page.getByRole("link", { name: "Tenants" }).click();
      const tenants = page.getByTestId("tenants");
      await tenants.getByRole("row", { name: /Lab 50/ }).waitFor();
      await expect(page.locator(".pager").textContent()).resolves.toContain("51 in all");
      await page.getByRole("button", { name: "Next" }).click();
      await tenants.getByRole("row", { name: new RegExp(email) }).waitFor();
      await expect(tenants.getByRole("row", { name: /Lab 50/ }).count()).resolves.toBe(0);
      await page.getByRole("button", { name: "Previous" }).click();
      await tenants.getByRole("row", { name: /Lab 50/ }).waitFor();
    });

    it("grants the customer credit from the Tenants page", async () => {
      await page.getByRole("button", { name: "Next" }).click();
      const row = page.getByTestId("tenants").getByRole("row", { name: new RegExp(email) });
      const tenantId = Number(await row.locator("td").first().textContent());
      const micros = async () =>
        BigInt((await h.get(`/api/v1/billing/balance?tenant_id=${tenantId}`)).body.data.balance_micros);
      const before = await micros();
      page.once("dialog", (dialog) => void dialog.accept("25"));
      await row.getByRole("button", { name: "Grant credit" }).click();
      await row.getByText("Granted").waitFor();
      expect((await micros()) - before).toBe(25_000_000n);
    });

    it("sees a node it registered on Fleet and a job it submitted on Jobs", async () => {
      // Set up through the operator API, as a script or the node agent would.
      const cluster = await h.post("/api/v1/clusters", { name: "us-east-a", region: "us-east-1" });
      expect(cluster.status).toBe(201);
      const clusterId = cluster.body.data.id;
      const node = await h.post("/api/v1/nodes", {
        cluster_id: clusterId,
        hostname: "gpu-node-01",
        ip_address: "10.0.0.11",
        total_gpus: 8,
        cpu_cores: 128,
        ram_gb: 2048,
      });
      expect(node.status).toBe(201);
      const job = await h.post("/api/v1/jobs", { cluster_id: clusterId, name: "llama-finetune", gpu_count: 2 });
      expect(job.status).toBe(201);

      await page.getByRole("link", { name: "Fleet" }).click();
      await page
        .getByTestId("clusters")
        .getByRole("row", { name: /us-east-a/ })
        .waitFor();
      const row = page.getByTestId("nodes").getByRole("row", { name: /gpu-node-01/ });
      await row.waitFor();
      await expect(row.textContent()).resolves.toContain("128 cores");

      await page.getByRole("link", { name: "Jobs" }).click();
      await page
        .getByTestId("jobs")
        .getByRole("row", { name: /llama-finetune/ })
        .waitFor();
      await page.screenshot({ path: `${screenshots}-jobs.png`, fullPage: true });
    });

    it("sees the built-in alert rules on Alerts", async () => {
      await page.getByRole("link", { name: "Alerts" }).click();
      await page
        .getByTestId("alert-rules")
        .getByRole("row", { name: /Tenant at GPU quota/ })
        .waitFor();
      await page.getByText("No alerts have fired.").waitFor();
    });
  });
});
