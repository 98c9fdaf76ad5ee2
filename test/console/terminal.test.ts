// The web terminal in a real browser (Debian's chromium through playwright-core) against a real server with its
// WebSocket side: a customer types `echo` into the instance page's terminal and reads the answer back; another
// tenant's instance gives no terminal and no bytes. The instance's SSH server is the stand-in of
// test/instances/fake-sshd.ts, holding exactly the keys the node's agent is told to authorize.

import { randomInt } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusters, gpus, nodes } from "../../src/db/schema/index.js";
import { currentAssignments } from "../../src/domain/agent/assignments.js";
import { markInstanceRunning } from "../../src/domain/instances/lifecycle.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { fakeSshd } from "../instances/fake-sshd.js";
import { customer } from "../instances/fixtures.js";
import { listenWithTerminal } from "../instances/terminal-socket.js";
import { buildConsoleIfStale } from "./build.js";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const artefacts = process.env.CONSOLE_SCREENSHOTS ?? "test-artifacts/console";

describe.skipIf(!existsSync(chromiumPath))("the console's web terminal", () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof listenWithTerminal>>;
  let browser: Browser;
  let sshd: Awaited<ReturnType<typeof fakeSshd>>;
  let nodeId: number;

  beforeAll(async () => {
    buildConsoleIfStale();
    mkdirSync(artefacts, { recursive: true });
    h = await createHarness("pglite");
    server = await listenWithTerminal(h.app);
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
    await h.post("/api/v1/regions", { id: "TERM-UI", name: "Terminal lab" });
    const [cluster] = await h.ctx.db.insert(clusters).values({ name: "term-ui", region: "TERM-UI" }).returning();
    const [n] = await h.ctx.db
      .insert(nodes)
      .values({ clusterId: cluster.id, hostname: "term-ui-1", ipAddress: "127.0.0.1", totalGpus: 4 })
      .returning();
    nodeId = n.id;
    await h.ctx.db
      .insert(gpus)
      .values(Array.from({ length: 4 }, (_, i) => ({ nodeId: n.id, gpuIndex: i, model: "NVIDIA H100 80GB HBM3" })));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sshd?.close();
    await server?.close();
    await h?.close();
  });

  /** A customer's fleet instance, running, whose SSH server holds what the agent was told to authorize. */
  async function runningInstance(name: string) {
    const account = await customer(h);
    const created = await h.post(
      "/api/v1/deployments/clusters",
      {
        cluster_type: "1H100.80S.30V",
        image: "ubuntu-22.04-cuda-12.4-cluster",
        hostname: name,
        ssh_key_ids: [account.sshKeyId],
        location: "TERM-UI",
      },
      account.key,
    );
    expect(created.status, created.text).toBe(201);
    const id = created.body.data.id as string;
    const keys = (await currentAssignments(h.ctx, nodeId)).instances.find((i) => i.id === id)!.ssh_public_keys;
    sshd ??= await fakeSshd(keys.slice(1));
    await markInstanceRunning(h.ctx, id, { ipAddress: "127.0.0.1", sshUser: "root", sshPort: sshd.port });
    return { ...account, id };
  }

  async function pageAs(key: string): Promise<Page> {
    const context = await browser.newContext({ baseURL: server.httpBase, viewport: { width: 1280, height: 900 } });
    await context.addInitScript((k) => sessionStorage.setItem("gpuplane.api_key", k), key);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  it("types echo into the instance's terminal and reads the answer back; another tenant's instance opens nothing", async () => {
    const mine = await runningInstance("mine");
    const theirs = await runningInstance("theirs");
    const page = await pageAs(mine.key);
    await page.goto(`/instances/${mine.id}`);
    await page.getByTestId("instance-terminal").getByRole("button", { name: "Open terminal" }).click();
    await page
      .getByTestId("terminal-status")
      .getByText(/connected to mine/)
      .waitFor();
    const word = `gpuplane-${randomInt(1_000_000)}`;
    await page.getByTestId("terminal-screen").click();
    await page.keyboard.type(`echo ${word}`);
    await page.keyboard.press("Enter");
    const rows = page.getByTestId("terminal-screen").locator(".xterm-rows > div");
    // The command line, then the shell's answer on a row of its own.
    await expect.poll(async () => (await rows.allTextContents()).filter((l) => l.trim() === word).length).toBe(1);
    await page.screenshot({ path: `${artefacts}/customer-instance-terminal.png`, fullPage: true });

    // The other tenant's instance: its page is not found, its ticket is refused, and a WebSocket to it with this
    // customer's own ticket is refused before a single byte.
    const refused = await page.evaluate(
      async ([other, own]) => {
        const key = sessionStorage.getItem("gpuplane.api_key")!;
        const post = (id: string) =>
          fetch(`/api/v1/instances/${id}/terminal`, { method: "POST", headers: { "x-api-key": key } });
        const ticketStatus = (await post(other)).status;
        const ownTicket = (await (await post(own)).json()).data.ticket as string;
        const bytes = await new Promise<number>((resolve) => {
          let received = 0;
          const ws = new WebSocket(`ws://${location.host}/api/v1/instances/${other}/terminal?ticket=${ownTicket}`);
          ws.onmessage = (e) => {
            received += typeof e.data === "string" ? e.data.length : 1;
          };
          ws.onclose = () => resolve(received);
          ws.onerror = () => undefined;
        });
        return { ticketStatus, bytes };
      },
      [theirs.id, mine.id],
    );
    expect(refused).toEqual({ ticketStatus: 404, bytes: 0 });
    await page.goto(`/instances/${theirs.id}`);
    await page.getByText(/instance not found/).waitFor();
    await expect(page.getByTestId("instance-terminal").count()).resolves.toBe(0);
    await page.screenshot({ path: `${artefacts}/customer-other-tenant-terminal.png`, fullPage: true });
    await page.context().close();
  }, 90_000);
});
