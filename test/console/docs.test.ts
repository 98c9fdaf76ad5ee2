// /docs in a real browser with every request outside the server blocked: the API reference's script and styles come
// from the installed package, so the page renders the operations of /openapi.json without internet.

import { existsSync } from "node:fs";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.js";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const artefacts = process.env.CONSOLE_SCREENSHOTS ?? "test-artifacts/console";

describe.skipIf(!existsSync(chromiumPath))("/docs offline", () => {
  let h: Harness;
  let http: Server;
  let baseURL: string;
  let browser: Browser;

  beforeAll(async () => {
    h = await createHarness("pglite");
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
  });

  it("renders the API reference with the network outside the server blocked", async () => {
    const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
    const blocked: string[] = [];
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(baseURL)) return route.continue();
      blocked.push(url);
      return route.abort("internetdisconnected");
    });
    const page = await context.newPage();
    const res = await page.goto("/docs");
    expect(res?.status()).toBe(200);
    // Operations from /openapi.json, drawn by the reference's script.
    await page.getByText("Sign up: creates an account").first().waitFor({ timeout: 20_000 });
    await page.getByText("gpuplane API").first().waitFor();
    await page.screenshot({ path: `${artefacts}/docs.png` });
    // Nothing the page needs was outside: a blocked script or stylesheet would be listed here.
    expect(blocked.filter((url) => /\.(js|css)(\?|$)/.test(url))).toEqual([]);
    await context.close();
  }, 60_000);
});
