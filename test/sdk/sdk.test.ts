import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  collect,
  createGpuplane,
  type GpuplaneClient,
  InsufficientCreditsError,
  NotFoundError,
  paginate,
  unwrap,
  verifyWebhook,
  WebhookVerificationError,
  waitForInstance,
} from "../../packages/sdk/src/index.js";
import { sshPublicKey } from "../instances/fixtures.js";
import { startReceiver } from "../webhooks/receiver.js";
import { type LiveServer, startLiveServer } from "./live-server.js";

/** The TypeScript SDK against a whole server over real HTTP, as a customer's program would use it (on PGlite). */
for (const kind of ["pglite"] as const) {
  describe(`TypeScript SDK against a live server [${kind}]`, () => {
    let server: LiveServer;
    let operator: GpuplaneClient;
    beforeAll(async () => {
      server = await startLiveServer(kind);
      operator = createGpuplane({ baseUrl: server.url, apiKey: server.operatorKey, authHeader: "bearer" });
    });
    afterAll(() => server?.close());

    /** A new customer signed up through the SDK, and a client holding its key. */
    async function customer(fundUsd?: string) {
      const anonymous = createGpuplane({ baseUrl: server.url });
      const email = `sdk-${crypto.randomUUID()}@example.com`;
      const account = await unwrap(
        anonymous.POST("/api/v1/auth/register", { body: { email, password: "correct horse battery" } }),
      );
      if (fundUsd) {
        await unwrap(
          operator.POST("/api/v1/tenants/{id}/credits", {
            params: { path: { id: account.tenant.id } },
            body: { amount_usd: fundUsd, description: "sdk test" },
          }),
        );
      }
      return { tenantId: account.tenant.id, api: createGpuplane({ baseUrl: server.url, apiKey: account.api_key.key }) };
    }

    it("creates, lists, reads and deletes SSH keys, volumes, webhooks, API keys and waitlist entries", async () => {
      const { api } = await customer();
      const key = await unwrap(api.POST("/api/v1/ssh-keys", { body: { name: "laptop", public_key: sshPublicKey() } }));
      expect((await unwrap(api.GET("/api/v1/ssh-keys"))).map((k) => k.id)).toEqual([key.id]);
      expect((await unwrap(api.GET("/api/v1/ssh-keys/{id}", { params: { path: { id: key.id } } }))).name).toBe(
        "laptop",
      );
      await api.DELETE("/api/v1/ssh-keys/{id}", { params: { path: { id: key.id } } });
      await expect(api.GET("/api/v1/ssh-keys/{id}", { params: { path: { id: key.id } } })).rejects.toBeInstanceOf(
        NotFoundError,
      );

      const volume = await unwrap(
        api.POST("/api/v1/volumes", { body: { name: "data", size_gb: 50, region: "FIN-01" } }),
      );
      expect(volume.size_gb).toBe(50);
      expect((await unwrap(api.GET("/api/v1/volumes"))).map((v) => v.id)).toContain(volume.id);
      expect((await unwrap(api.GET("/api/v1/volumes/{id}", { params: { path: { id: volume.id } } }))).name).toBe(
        "data",
      );
      await api.DELETE("/api/v1/volumes/{id}", { params: { path: { id: volume.id } } });

      const hook = await unwrap(
        api.POST("/api/v1/webhooks", { body: { url: "https://example.com/hook", events: ["instance.*"] } }),
      );
      expect(hook.secret).toMatch(/^whsec_/);
      expect((await unwrap(api.GET("/api/v1/webhooks"))).map((w) => w.id)).toEqual([hook.id]);
      expect((await unwrap(api.GET("/api/v1/webhooks/{id}", { params: { path: { id: hook.id } } }))).url).toBe(
        "https://example.com/hook",
      );
      await api.DELETE("/api/v1/webhooks/{id}", { params: { path: { id: hook.id } } });
      expect(await unwrap(api.GET("/api/v1/webhooks"))).toEqual([]);

      const created = await unwrap(api.POST("/api/v1/api-keys", { body: { label: "ci" } }));
      const second = createGpuplane({ baseUrl: server.url, apiKey: created.key });
      expect((await unwrap(second.GET("/api/v1/auth/whoami"))).key_id).toBe(created.id);
      expect((await unwrap(api.GET("/api/v1/api-keys"))).map((k) => k.label)).toContain("ci");
      await api.DELETE("/api/v1/api-keys/{id}", { params: { path: { id: created.id } } });
      await expect(second.GET("/api/v1/auth/whoami")).rejects.toBeInstanceOf(AuthenticationError);

      const entry = await unwrap(
        api.POST("/api/v1/waitlist", { body: { cluster_type: "1H100.80S.30V", region: "FIN-01" } }),
      );
      expect((await unwrap(api.GET("/api/v1/waitlist"))).map((e) => e.id)).toContain(entry.id);
      expect((await unwrap(api.GET("/api/v1/waitlist/{id}", { params: { path: { id: entry.id } } }))).id).toBe(
        entry.id,
      );
      await api.DELETE("/api/v1/waitlist/{id}", { params: { path: { id: entry.id } } });
    });

    it("launches an instance, waits for running with each state reported, stops, starts and deletes it", async () => {
      const { api } = await customer("100");
      const key = await unwrap(api.POST("/api/v1/ssh-keys", { body: { name: "k", public_key: sshPublicKey() } }));
      const [offer] = await unwrap(api.GET("/api/v1/offers", { params: { query: { available: "true" } } }));
      const ordered = await unwrap(
        api.POST("/api/v1/instances", {
          body: { name: "trainer", planId: offer.plan_id, templateSlug: "pytorch-cuda", sshKeyId: key.id },
        }),
      );
      const seen: string[] = [];
      const running = await waitForInstance(api, ordered.id, { intervalMs: 200, onChange: (i) => seen.push(i.status) });
      expect(running.sshCommand).toMatch(/^ssh /);
      expect(seen.at(-1)).toBe("running");
      expect(seen[0]).not.toBe("running");
      expect((await unwrap(api.GET("/api/v1/instances"))).map((i) => i.id)).toEqual([ordered.id]);
      const stopped = await unwrap(api.POST("/api/v1/instances/{id}/stop", { params: { path: { id: ordered.id } } }));
      expect(stopped.status).toBe("stopped");
      await unwrap(api.POST("/api/v1/instances/{id}/start", { params: { path: { id: ordered.id } } }));
      await waitForInstance(api, ordered.id, { intervalMs: 200 });
      const deleted = await unwrap(api.DELETE("/api/v1/instances/{id}", { params: { path: { id: ordered.id } } }));
      expect(["deleting", "deleted"]).toContain(deleted.status);
    });

    it("throws typed errors carrying the server's code, message and request id; another tenant's is a 404", async () => {
      const poor = await customer();
      const key = await unwrap(poor.api.POST("/api/v1/ssh-keys", { body: { name: "k", public_key: sshPublicKey() } }));
      const error = await poor.api
        .POST("/api/v1/instances", {
          // The $5 sign-up credit covers the first hour of one H100 ($2.49), not of four ($9.96).
          body: { name: "x", planId: "GPU.H100.4x", templateSlug: "pytorch-cuda", sshKeyId: key.id },
        })
        .catch((e) => e);
      expect(error).toBeInstanceOf(InsufficientCreditsError);
      expect(error).toMatchObject({ status: 402, code: "INSUFFICIENT_CREDITS" });
      expect(error.message).toMatch(/balance/i);
      expect(error.requestId).toMatch(/\S{8,}/);

      const other = await customer();
      const hidden = await other.api.GET("/api/v1/ssh-keys/{id}", { params: { path: { id: key.id } } }).catch((e) => e);
      expect(hidden).toBeInstanceOf(NotFoundError);
      expect(hidden.code).toBe("NOT_FOUND");
    });

    it("pages through 250 SSH keys with the async iterator, each exactly once", async () => {
      const { api } = await customer();
      const names = Array.from({ length: 250 }, (_, i) => `key-${i}`);
      for (let i = 0; i < names.length; i += 25) {
        await Promise.all(
          names
            .slice(i, i + 25)
            .map((name) => api.POST("/api/v1/ssh-keys", { body: { name, public_key: sshPublicKey() } })),
        );
      }
      let pages = 0;
      const all = await collect(
        paginate((cursor) => {
          pages++;
          return api.GET("/api/v1/ssh-keys", { params: { query: { limit: 100, cursor } } });
        }),
      );
      expect(pages).toBe(3);
      expect(all).toHaveLength(250);
      expect(new Set(all.map((k) => k.name))).toEqual(new Set(names));
    });

    it("retries a create whose answer was lost (a 502, then a dropped connection) and creates it once", async () => {
      const sent: { method: string; key: string | null }[] = [];
      let failures = 0;
      // A proxy that delivers the request but loses the answer: first a 502 page, then a reset connection.
      const lossy = async (request: Request) => {
        const response = await fetch(request);
        sent.push({ method: request.method, key: request.headers.get("idempotency-key") });
        if (request.method === "POST" && failures < 2) {
          failures++;
          await response.body?.cancel();
          if (failures === 1) return new Response("<html>502 Bad Gateway</html>", { status: 502 });
          throw new TypeError("fetch failed: socket hang up");
        }
        return response;
      };
      const account = await customerWithKey();
      const api = createGpuplane({ baseUrl: server.url, apiKey: account.key, fetch: lossy, baseDelayMs: 10 });
      const key = await unwrap(api.POST("/api/v1/ssh-keys", { body: { name: "once", public_key: sshPublicKey() } }));
      expect(key.name).toBe("once");
      const posts = sent.filter((s) => s.method === "POST");
      expect(posts).toHaveLength(3);
      expect(new Set(posts.map((p) => p.key)).size).toBe(1);
      expect(posts[0].key).toMatch(/^gp-/);
      expect((await unwrap(api.GET("/api/v1/ssh-keys"))).map((k) => k.name)).toEqual(["once"]);
    });

    it("waits out a 429 for its Retry-After and then succeeds", async () => {
      const account = await customerWithKey();
      let limited = 0;
      const waits: number[] = [];
      const api = createGpuplane({
        baseUrl: server.url,
        apiKey: account.key,
        fetch: async (request) => {
          if (limited++ === 0)
            return new Response('{"code":"RATE_LIMITED","error":"slow down"}', {
              status: 429,
              headers: { "retry-after": "1" },
            });
          return fetch(request);
        },
      });
      const started = Date.now();
      const balance = await unwrap(api.GET("/api/v1/billing/balance"));
      waits.push(Date.now() - started);
      expect(balance.currency.toUpperCase()).toBe("USD");
      expect(waits[0]).toBeGreaterThanOrEqual(900);
    });

    it("verifies the signature of a real webhook delivery and refuses a tampered one", async () => {
      const receiver = await startReceiver();
      try {
        const { api } = await customer();
        const hook = await unwrap(
          api.POST("/api/v1/webhooks", { body: { url: receiver.url("/hook"), events: ["*"] } }),
        );
        await api.POST("/api/v1/webhooks/{id}/test", { params: { path: { id: hook.id } } });
        const deadline = Date.now() + 20_000;
        while (receiver.at("/hook").length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        const [delivery] = receiver.at("/hook");
        expect(delivery).toBeDefined();
        const headers = delivery.headers as Record<string, string>;
        const payload = await verifyWebhook<{ type: string }>(hook.secret, delivery.body, headers);
        expect(payload.type).toBe("webhook.ping");
        await expect(verifyWebhook(hook.secret, delivery.body.replace("ping", "pong"), headers)).rejects.toBeInstanceOf(
          WebhookVerificationError,
        );
        const stale = { now: () => Date.now() + 3_600_000 };
        await expect(verifyWebhook(hook.secret, delivery.body, headers, stale)).rejects.toThrow(/tolerance/);
      } finally {
        await receiver.close();
      }
    });

    async function customerWithKey() {
      const res = await server.post(
        "/api/v1/auth/register",
        {
          email: `sdk-${crypto.randomUUID()}@example.com`,
          password: "correct horse battery",
        },
        null,
      );
      return { key: res.body.data.api_key.key as string };
    }
  });
}
