// With Stripe configured, "Add credits" in the console goes to Stripe Checkout (a realistic fake of Stripe's API,
// and the Checkout page intercepted in the browser), and the balance shows the credit once the signed webhook lands.

import { existsSync } from "node:fs";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { type Browser, chromium } from "playwright-core";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStripeClient } from "../../src/domain/billing/stripe.js";
import { FakeStripe } from "../billing/fake-stripe.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { buildConsoleIfStale } from "./build.js";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const artefacts = process.env.CONSOLE_SCREENSHOTS ?? "test-artifacts/console";
const WEBHOOK_SECRET = "whsec_test_console";

describe.skipIf(!existsSync(chromiumPath))("adding credits through Stripe Checkout from the console", () => {
  let h: Harness;
  let http: Server;
  let baseURL: string;
  let browser: Browser;
  let fake: FakeStripe;

  beforeAll(async () => {
    buildConsoleIfStale();
    fake = await new FakeStripe().start();
    h = await createHarness("pglite", {
      env: { STRIPE_SECRET_KEY: "sk_test_console", STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
    });
    h.ctx.services.stripe = createStripeClient("sk_test_console", {
      host: "127.0.0.1",
      port: fake.port,
      protocol: "http",
    });
    baseURL = await new Promise<string>((resolve) => {
      http = serve({ fetch: h.app.fetch, hostname: "127.0.0.1", port: 0 }, (info) =>
        resolve(`http://127.0.0.1:${info.port}`),
      ) as Server;
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
    await h?.close();
    fake?.stop();
  });

  it("goes to Checkout and shows the credit when Stripe's webhook lands", async () => {
    const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 820 } });
    // Stripe's hosted Checkout page, as the browser would reach it.
    await context.route("https://checkout.stripe.test/**", (route) =>
      route.fulfill({ contentType: "text/html", body: "<h1>Stripe Checkout (test)</h1>" }),
    );
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto("/signup");
    await page.getByLabel("Name").fill("Grace Labs");
    await page.getByLabel("Email").fill("grace@example.com");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL("**/instances");
    await page.getByRole("link", { name: "Billing" }).click();
    await page.getByLabel("Amount (USD)").fill("25");
    await page.getByRole("button", { name: "Add credits" }).click();
    await page.waitForURL("https://checkout.stripe.test/**");
    await page.getByRole("heading", { name: "Stripe Checkout (test)" }).waitFor();

    // The customer pays; Stripe signs and sends checkout.session.completed.
    const sessionId = page.url().split("/").pop()!;
    const session = fake.objects.get(sessionId);
    expect(session.amount_total).toBe(2500);
    const payload = JSON.stringify(
      fake.event("checkout.session.completed", { ...session, status: "complete", payment_status: "paid" }),
    );
    const signature = new Stripe("sk_test_signer").webhooks.generateTestHeaderString({
      payload,
      secret: WEBHOOK_SECRET,
    });
    const landed = await h.request("POST", "/api/v1/billing/stripe/webhook", {
      key: null,
      raw: payload,
      headers: { "stripe-signature": signature },
    });
    expect(landed.status).toBe(200);

    await page.goto("/billing");
    await expect(page.getByTestId("balance").textContent()).resolves.toBe("$30.00");
    await page.screenshot({ path: `${artefacts}/customer-billing-stripe.png`, fullPage: true });
    await context.close();
  }, 90_000);
});
