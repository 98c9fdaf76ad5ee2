import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { clusters, gpus, nodes, terminalSessions } from "../../src/db/schema/index.js";
import { currentAssignments } from "../../src/domain/agent/assignments.js";
import { markInstanceRunning } from "../../src/domain/instances/lifecycle.js";
import { sha256Hex } from "../../src/lib/secrets.js";
import { describeEachDb } from "../helpers/harness.js";
import { fakeSshd } from "./fake-sshd.js";
import { customer, syncStatus } from "./fixtures.js";
import { connectTerminal, eventually, listenWithTerminal } from "./terminal-socket.js";

/**
 * The web terminal's API: tickets (POST /instances/{id}/terminal) and the WebSocket they open, on both databases.
 * The instance's SSH server is a stand-in here (test/instances/fake-sshd.ts); the real container's is in
 * test/agent/terminal.test.ts.
 */
describeEachDb(
  "web terminal",
  (h) => {
    let server: Awaited<ReturnType<typeof listenWithTerminal>>;
    let region: string;
    let nodeId: number;
    let seq = 0;
    const closedPort = 1;

    beforeAll(async () => {
      server = await listenWithTerminal(h().app);
      region = `TERM-${h().kind}`.toUpperCase();
      await h().post("/api/v1/regions", { id: region, name: "Terminal lab" });
      const [cluster] = await h().ctx.db.insert(clusters).values({ name: "term", region }).returning();
      const [n] = await h()
        .ctx.db.insert(nodes)
        .values({ clusterId: cluster.id, hostname: "term-1", ipAddress: "127.0.0.1", totalGpus: 8 })
        .returning();
      nodeId = n.id;
      await h()
        .ctx.db.insert(gpus)
        .values(Array.from({ length: 8 }, (_, i) => ({ nodeId: n.id, gpuIndex: i, model: "NVIDIA H100 80GB HBM3" })));
    });
    afterAll(async () => {
      await server?.close();
    });

    /** A fleet instance of a new customer, running with its SSH server at 127.0.0.1:`port` (as its agent reports). */
    async function runningInstance(port: number) {
      const account = await customer(h());
      const created = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: `t${seq++}`,
          ssh_key_ids: [account.sshKeyId],
          location: region,
        },
        account.key,
      );
      expect(created.status, created.text).toBe(201);
      const id = created.body.data.id as string;
      await markInstanceRunning(h().ctx, id, { ipAddress: "127.0.0.1", sshUser: "root", sshPort: port });
      return { ...account, id };
    }
    /** An SSH server holding what a fleet instance's is told to authorize besides the customer's keys. */
    async function instanceSshd() {
      const placeholder = await runningInstance(closedPort);
      const keys = (await currentAssignments(h().ctx, nodeId)).instances.find((i) => i.id === placeholder.id)!;
      return fakeSshd(keys.ssh_public_keys.slice(1));
    }
    const ticket = (id: string, key: string) => h().post(`/api/v1/instances/${id}/terminal`, undefined, key);

    it("puts the server's terminal key beside the customer's in what the node's agent is told to authorize", async () => {
      const a = await runningInstance(closedPort);
      const assignment = (await currentAssignments(h().ctx, nodeId)).instances.find((i) => i.id === a.id)!;
      const own = (await h().get("/api/v1/ssh-keys", a.key)).body.data[0].public_key as string;
      expect(assignment.ssh_public_keys).toHaveLength(2);
      expect(assignment.ssh_public_keys[0]).toBe(own);
      expect(assignment.ssh_public_keys[1]).toMatch(/^ssh-ed25519 \S+ gpuplane-web-terminal$/);
      // The instance's own record (and what the API shows) keeps the customer's keys only.
      expect((await h().get(`/api/v1/deployments/${a.id}`, a.key)).text).not.toContain("gpuplane-web-terminal");
    });

    it("runs a shell on the customer's own running instance over SSH, and the socket sees what it prints", async () => {
      const sshd = await instanceSshd();
      try {
        const a = await runningInstance(sshd.port);
        const issued = await ticket(a.id, a.key);
        expect(issued.status, issued.text).toBe(201);
        expect(issued.body.data.url).toBe(
          `/api/v1/instances/${a.id}/terminal?ticket=${encodeURIComponent(issued.body.data.ticket)}`,
        );
        expect(Date.parse(issued.body.data.expires_at) - h().clock.now().getTime()).toBeLessThanOrEqual(60_000);
        const term = await connectTerminal(server.base, issued.body.data.url);
        expect(term.status).toBe(101);
        await eventually("the prompt", () => term.output().includes("$ "));
        term.resize(120, 40);
        term.send("echo gpuplane-term-42\r");
        await eventually("the echo", () => /\r\ngpuplane-term-42\r\n/.test(term.output()));
        expect(sshd.accepted).toEqual(["root gpuplane-web-terminal"]);
        term.send("exit\r");
        const closed = await term.closed;
        expect(closed.code).toBe(1000);
        // The record says when it opened and closed, and why; never what was typed.
        const row = async () =>
          (
            await h()
              .ctx.db.select()
              .from(terminalSessions)
              .where(eq(terminalSessions.ticketHash, sha256Hex(issued.body.data.ticket)))
          )[0];
        await expect.poll(async () => (await row()).closeReason).toBe("the shell exited");
        expect((await row()).openedAt).not.toBeNull();
        expect((await row()).hostKeySha256).toMatch(/^SHA256:/);
        expect(JSON.stringify(await row())).not.toContain("gpuplane-term-42");
      } finally {
        await sshd.close();
      }
    });

    it("takes a ticket once: a second connection with it, or one after its minute, is refused with no bytes", async () => {
      const a = await runningInstance(closedPort);
      const issued = (await ticket(a.id, a.key)).body.data;
      const first = await connectTerminal(server.base, issued.url);
      expect(first.status).toBe(101);
      // Nothing listens on the instance's port: the terminal says so and closes.
      const closed = await first.closed;
      expect(closed.code).toBe(4010);
      expect(first.frames).toContainEqual(
        expect.objectContaining({ type: "status", state: "closed", message: expect.stringMatching(/cannot reach/) }),
      );
      const again = await connectTerminal(server.base, issued.url);
      expect(again.status).toBe(401);
      expect(again.frames).toEqual([]);

      const late = (await ticket(a.id, a.key)).body.data;
      h().clock.advance(61_000);
      const expired = await connectTerminal(server.base, late.url);
      expect(expired.status).toBe(401);
      expect(expired.frames).toEqual([]);
      const forged = await connectTerminal(server.base, `/api/v1/instances/${a.id}/terminal?ticket=forged`);
      expect(forged.status).toBe(401);
    });

    it("never opens another tenant's instance: no ticket (404), and one's own ticket does not open it", async () => {
      const victim = await runningInstance(closedPort);
      const stranger = await runningInstance(closedPort);
      const refused = await ticket(victim.id, stranger.key);
      expect(refused.status).toBe(404);
      expect(refused.body.error).toBe("instance not found");
      const own = (await ticket(stranger.id, stranger.key)).body.data;
      const crossed = await connectTerminal(
        server.base,
        `/api/v1/instances/${victim.id}/terminal?ticket=${encodeURIComponent(own.ticket)}`,
      );
      expect(crossed.status).toBe(404);
      expect(crossed.frames).toEqual([]);
      // The operator runs the fleet, not the customers' shells.
      const operator = await h().post(`/api/v1/instances/${victim.id}/terminal`);
      expect(operator.status).toBe(403);
      expect(operator.body.error).toMatch(/only for the instance's own tenant/);
    });

    it("refuses a simulated instance and a stopped one with a 409 saying why", async () => {
      const account = await customer(h());
      const sim = await h().post(
        "/api/v1/instances",
        { planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: account.sshKeyId },
        account.key,
      );
      expect(sim.status, sim.text).toBe(201);
      await syncStatus(h());
      expect((await h().get(`/api/v1/instances/${sim.body.data.id}`, account.key)).body.data.status).toBe("running");
      const simulated = await ticket(sim.body.data.id, account.key);
      expect(simulated.status).toBe(409);
      expect(simulated.body.error).toMatch(/simulated provider.*no shell to open/);

      const a = await runningInstance(closedPort);
      await h().post(`/api/v1/instances/${a.id}/stop`, undefined, a.key);
      const stopped = await ticket(a.id, a.key);
      expect(stopped.status).toBe(409);
      expect(stopped.body.error).toMatch(/is (stopping|stopped); the web terminal opens on a running instance/);
      const noTicket = await connectTerminal(server.base, `/api/v1/instances/${a.id}/terminal`);
      expect(noTicket.status).toBe(401);
    });

    it("closes an open terminal when the instance stops, and when the console session it came from ends", async () => {
      const sshd = await instanceSshd();
      try {
        const a = await runningInstance(sshd.port);
        const term = await connectTerminal(server.base, (await ticket(a.id, a.key)).body.data.url);
        await eventually("the prompt", () => term.output().includes("$ "));
        expect((await h().post(`/api/v1/instances/${a.id}/stop`, undefined, a.key)).status).toBe(200);
        const closed = await term.closed;
        expect(closed.code).toBe(4001);
        expect(closed.reason).toMatch(/is (stopping|stopped)/);

        const b = await runningInstance(sshd.port);
        const login = await h().post("/api/v1/auth/login", { email: b.email, password: "correct horse battery" }, null);
        const session = login.body.data.api_key.key as string;
        const viaSession = await connectTerminal(server.base, (await ticket(b.id, session)).body.data.url);
        await eventually("the prompt", () => viaSession.output().includes("$ "));
        expect((await h().post("/api/v1/auth/logout", undefined, session)).status).toBe(204);
        const ended = await viaSession.closed;
        expect(ended.code).toBe(4003);
      } finally {
        await sshd.close();
      }
    }, 30_000);
  },
  { manualClock: true },
);
