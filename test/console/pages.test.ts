// The instance page, the Volumes page, offer filters and a launch without a name, in a real browser (Debian's
// chromium through playwright-core) against a real server on a fresh PGlite database: what a customer sees.

import { existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { eq } from "drizzle-orm";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instances } from "../../src/db/schema/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { customer, syncStatus } from "../instances/fixtures.js";
import { buildConsoleIfStale } from "./build.js";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const artefacts = process.env.CONSOLE_SCREENSHOTS ?? "test-artifacts/console";
const shot = (page: Page, name: string) => page.screenshot({ path: `${artefacts}/${name}.png`, fullPage: true });

function listen(h: Harness): Promise<{ http: Server; baseURL: string }> {
  return new Promise((resolve) => {
    const http = serve({ fetch: h.app.fetch, hostname: "127.0.0.1", port: 0 }, (info) =>
      resolve({ http: http as Server, baseURL: `http://127.0.0.1:${info.port}` }),
    ) as Server;
  });
}

/** Nothing overflows sideways at a phone's width. */
async function fitsPhone(page: Page): Promise<boolean> {
  await page.setViewportSize({ width: 390, height: 844 });
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}

const dollarsOf = (price: string) => Number(price.replace(/[^0-9.]/g, ""));

describe.skipIf(!existsSync(chromiumPath))("the console's instance, volumes and launch pages", () => {
  let h: Harness;
  let http: Server;
  let baseURL: string;
  let browser: Browser;
  let account: Awaited<ReturnType<typeof customer>>;

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(artefacts, { recursive: true });
    // A hand-moved clock: provisioning finishes when the test runs the status-sync tick.
    h = await createHarness("pglite", { manualClock: new Date() });
    ({ http, baseURL } = await listen(h));
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
    account = await customer(h);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    await h?.close();
  });

  /** A page logged in as the customer (the key in sessionStorage, as the log-in page leaves it). */
  async function customerPage(): Promise<Page> {
    const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
    await context.addInitScript((k) => sessionStorage.setItem("gpuplane.api_key", k), account.key);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("dialog", (dialog) => void dialog.accept());
    return page;
  }

  it("shows an instance's status history, its ssh command with a copy button, and its cost", async () => {
    const created = await h.post(
      "/api/v1/instances",
      { name: "page-run", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: account.sshKeyId },
      account.key,
    );
    expect(created.status, created.text).toBe(201);
    const id = created.body.data.id as string;
    await syncStatus(h);
    const ssh = (await h.get(`/api/v1/instances/${id}`, account.key)).body.data.sshCommand as string;
    expect(ssh).toMatch(/^ssh /);

    const page = await customerPage();
    await page.goto("/instances");
    // From the Instances table to the instance's own page.
    await page.getByTestId("instances").getByRole("link", { name: "page-run" }).click();
    await page.waitForURL(`**/instances/${id}`);
    await page.getByRole("heading", { level: 1, name: "page-run", exact: true }).waitFor();

    const history = page.getByTestId("instance-events");
    await history.getByRole("row", { name: /provisioning → running/ }).waitFor();
    const rows = await history.locator("tbody tr").allTextContents();
    // Newest first: running, provisioning, ordered.
    expect(rows.map((r) => r.match(/provisioning → running|ordered → provisioning|ordered/)?.[0])).toEqual([
      "provisioning → running",
      "ordered → provisioning",
      "ordered",
    ]);

    await expect(page.getByTestId("ssh-command").textContent()).resolves.toBe(ssh);
    await page.getByTestId("instance-ssh").getByRole("button", { name: "Copy the ssh command" }).click();
    await page.getByTestId("instance-ssh").getByText("Copied").waitFor();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(ssh);

    await expect(page.getByTestId("instance-cost").textContent()).resolves.toMatch(/Cost so far\$\d+\.\d\d/);
    await page.getByTestId("instance-utilization-chart").waitFor();
    await page.getByTestId("instance-volumes").getByText("No volumes attached").waitFor();
    await shot(page, "customer-instance-page");
    await expect(fitsPhone(page)).resolves.toBe(true);
    await shot(page, "customer-instance-page-phone");
    await page.setViewportSize({ width: 1280, height: 900 });

    // An hour later the meter has charged it an hour of its $2.49/h.
    h.clock.advance(3_600_000);
    await h.runWorker("meter");
    await page.reload();
    await page.getByTestId("instance-cost").locator(".kpi-value").getByText("$2.49", { exact: true }).waitFor();
    await expect(page.getByTestId("instance-cost").textContent()).resolves.toMatch(/Cost so far\$2\.49.*1 h billed/);

    // Stopped from its page: the history grows by the stop, with no reload.
    await page.getByRole("button", { name: "Stop" }).click();
    await history.getByRole("row", { name: /running → stopped/ }).waitFor();
    await page.context().close();
  }, 60_000);

  it("shows the container's log lines on the instance page, new ones without a reload", async () => {
    const created = await h.post(
      "/api/v1/instances",
      { name: "logs-run", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: account.sshKeyId },
      account.key,
    );
    const id = created.body.data.id as string;
    // A node's agent streams the lines: the instance is moved onto a joined node (fleet), as the fleet provider would.
    const cluster = (await h.post("/api/v1/clusters", { name: "logs-c", region: "FIN-01" })).body.data.id;
    const token = (await h.post(`/api/v1/clusters/${cluster}/join-tokens`, {})).body.data.token;
    const joined = await h.post("/api/v1/agent/join", { token, hostname: "logs-node", gpus: [] }, null);
    const node = joined.body.data;
    await h.ctx.db.update(instances).set({ provider: "fleet", nodeId: node.node_id }).where(eq(instances.id, id));
    const send = (lines: string[], second: number) =>
      h.post(
        `/api/v1/agent/instances/${id}/logs`,
        { lines: lines.map((line, seq) => ({ at: `2026-12-05T10:00:0${second}.000001Z`, seq, line })) },
        node.credential,
      );
    expect((await send(["epoch 1 loss 0.91", "epoch 2 loss 0.55"], 1)).status).toBe(200);

    const page = await customerPage();
    await page.goto(`/instances/${id}`);
    const logs = page.getByTestId("instance-logs");
    await logs.getByText("epoch 2 loss 0.55").waitFor();
    await expect(logs.locator("pre").textContent()).resolves.toBe("epoch 1 loss 0.91\nepoch 2 loss 0.55");
    await send(["epoch 3 loss 0.31"], 2);
    await logs.getByText("epoch 3 loss 0.31").waitFor({ timeout: 10_000 });
    await shot(page, "customer-instance-logs");
    await page.context().close();
  }, 60_000);

  it("creates a volume on the Volumes page, attaches and detaches it, and deletes it", async () => {
    const page = await customerPage();
    await page.goto("/instances");
    await page.locator("nav").getByRole("link", { name: "Volumes", exact: true }).click();
    await page.waitForURL("**/volumes");
    await page.getByText("No volumes yet").waitFor();

    await page.getByLabel("Name").fill("datasets");
    await page.getByLabel("Size (GB)").fill("250");
    await page.getByLabel("Region").selectOption("FIN-01");
    await page.getByRole("button", { name: "Create volume" }).click();
    const row = page.getByTestId("volumes").getByRole("row", { name: /datasets/ });
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain("250 GB NVME");
    await expect(row.textContent()).resolves.toContain("FIN-01");
    const [volume] = (await h.get("/api/v1/volumes", account.key)).body.data;
    expect(volume).toMatchObject({ name: "datasets", size_gb: 250, region: "FIN-01", status: "available" });
    await shot(page, "customer-volumes");
    await expect(fitsPhone(page)).resolves.toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });

    // Attached to the (stopped) instance of the first test, in the same region, then detached.
    await row.getByLabel("Instance to attach datasets to").selectOption({ label: "page-run" });
    await row.getByRole("button", { name: "Attach" }).click();
    await row.getByRole("link", { name: "page-run" }).waitFor();
    expect((await h.get(`/api/v1/volumes/${volume.id}`, account.key)).body.data.instance_id).toMatch(/^inst_/);
    await shot(page, "customer-volumes-attached");
    await row.getByRole("button", { name: "Detach" }).click();
    await row.getByRole("button", { name: "Delete" }).waitFor();
    expect((await h.get(`/api/v1/volumes/${volume.id}`, account.key)).body.data.instance_id).toBeNull();

    await row.getByRole("button", { name: "Delete" }).click();
    await page.getByText("No volumes yet").waitFor();
    const after = await h.get(`/api/v1/volumes/${volume.id}`, account.key);
    expect(after.body.data.status).toBe("deleted");
    await page.context().close();
  }, 60_000);

  it("narrows the offers by GPU model, count and price", async () => {
    const page = await customerPage();
    await page.goto("/instances/new");
    const offers = page.locator(".offer");
    await offers.first().waitFor();
    const all = await offers.count();
    expect(all).toBeGreaterThan(2);

    // A GPU model: only its offers remain.
    const model = (await offers.last().locator(".offer-title").textContent())!;
    const models = await page.getByLabel("GPU model").locator("option").allTextContents();
    const picked = models.find((m) => m !== "Any" && model.includes(m))!;
    expect(picked).toBeTruthy();
    await page.getByLabel("GPU model").selectOption(picked);
    const byModel = await offers.count();
    expect(byModel).toBeGreaterThan(0);
    expect(byModel).toBeLessThan(all);
    for (const text of await offers.allTextContents()) expect(text).toContain(picked);
    await shot(page, "customer-launch-filtered");

    // And a GPU count: only that size of that model.
    const counts = (await page.getByLabel("GPUs").locator("option").allTextContents()).filter((c) => c !== "Any");
    const count = counts[counts.length - 1];
    await page.getByLabel("GPUs").selectOption(count);
    const titles = await page.locator(".offer-title").allTextContents();
    expect(titles.length).toBeGreaterThan(0);
    expect(titles.length).toBeLessThan(byModel);
    for (const title of titles) expect(title).toMatch(new RegExp(`^${count.replace("×", "")}× .*${picked}`));

    // A price ceiling at the cheapest offer's price: nothing dearer is shown.
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect(offers.count()).resolves.toBe(all);
    const cheapest = dollarsOf((await page.locator(".offer-price").first().textContent())!);
    await page.getByLabel("Max $ / hr").fill(String(cheapest));
    const prices = (await page.locator(".offer-price").allTextContents()).map(dollarsOf);
    expect(prices.length).toBeLessThan(all);
    for (const price of prices) expect(price).toBeLessThanOrEqual(cheapest);

    // A price no offer has: said in words, not an empty grid.
    await page.getByLabel("Max $ / hr").fill("0.01");
    await page.getByTestId("no-matching-offers").waitFor();
    await expect(offers.count()).resolves.toBe(0);
    await page.context().close();
  }, 60_000);

  it("launches an instance without a name, which gets a generated one", async () => {
    const page = await customerPage();
    await page.goto("/instances/new");
    await page.locator(".offer").first().click();
    await expect(page.getByLabel("Name").inputValue()).resolves.toBe("");
    await page.getByRole("button", { name: "Launch" }).click();
    await page.waitForURL(/\/instances$/);
    const row = page.getByTestId("instances").getByRole("row", { name: /gpu-[0-9a-f]{6}/ });
    await row.waitFor();
    const launched = (await h.get("/api/v1/instances", account.key)).body.data.filter((i: any) =>
      /^gpu-[0-9a-f]{6}$/.test(i.name),
    );
    expect(launched).toHaveLength(1);
    await shot(page, "customer-launched-unnamed");
    await page.context().close();
  }, 60_000);
});
