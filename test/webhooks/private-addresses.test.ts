import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { webhookEndpoints } from "../../src/db/schema/index.js";
import { emitEvent } from "../../src/domain/events/emit.js";
import { runDeliveries } from "../../src/domain/webhooks/deliver.js";
import { type Resolve, systemResolve } from "../../src/domain/webhooks/egress.js";
import { describeEachDb } from "../helpers/harness.js";
import { type Receiver, startReceiver } from "./receiver.js";

/** Webhooks must not reach the operator's own network: the production default, GPUPLANE_WEBHOOK_ALLOW_PRIVATE off. */
describeEachDb(
  "webhook private addresses",
  (h) => {
    let rx: Receiver;
    beforeAll(async () => {
      rx = await startReceiver();
    });
    afterAll(() => rx.close());

    const register = (url: string, key: string) => h().post("/api/v1/webhooks", { url, events: ["instance.*"] }, key);
    const log = async (id: string, key: string) => (await h().get(`/api/v1/webhooks/${id}/deliveries`, key)).body.data;
    const emit = (tenantId: number) =>
      h().ctx.db.transaction((tx) => emitEvent(tx, tenantId, "instance.running", {}, h().clock.now()));
    /** A name whose DNS answers with these addresses; any other name resolves as usual. */
    const dnsAnswering =
      (name: string, ...addresses: string[]): Resolve =>
      async (host) =>
        host === name
          ? addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }))
          : systemResolve(host);

    it("refuses to register URLs on loopback, private, link-local, CGNAT, unspecified or multicast addresses", async () => {
      const { key } = await h().signup();
      const refused = [
        "http://127.0.0.1:8080/hook",
        "http://127.8.9.10/",
        "http://2130706433/", // 127.0.0.1 written as one number
        "http://10.0.0.5/",
        "http://172.16.0.1/",
        "http://172.31.255.254/",
        "http://192.168.1.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0:8080/",
        "http://224.0.0.251/",
        "http://[::1]:8080/",
        "http://[::]/",
        "http://[fc00::1]/",
        "http://[fd12:3456:789a::1]/",
        "http://[fe80::1]/",
        "http://[ff02::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/", // 169.254.169.254, IPv4-mapped
        "http://localhost:3000/hook",
        "https://LOCALHOST./hook",
        "http://api.localhost/hook",
      ];
      for (const url of refused) {
        const res = await register(url, key);
        expect(res.status, url).toBe(400);
        expect(res.body.error, url).toMatch(/^url: .* public addresses only$/);
      }
      expect((await register("http://169.254.169.254/", key)).body.error).toBe(
        "url: 169.254.169.254 is a private, loopback or link-local address; webhooks are delivered to public addresses only",
      );
      expect((await register("http://localhost/", key)).body.error).toContain("localhost is a loopback name");
      expect((await h().get("/api/v1/webhooks", key)).body.data).toEqual([]);
    });

    /** Issue 23, finding 5: IPv4 addresses inside IPv6 passed the filter. */
    const embedded = [
      "http://[::127.0.0.1]/", // IPv4-compatible
      "http://[::7f00:1]/",
      "http://[::ffff:0:a00:1]/", // SIIT, 10.0.0.1
      "http://[64:ff9b::7f00:1]/", // NAT64
      "http://[64:ff9b::a9fe:a9fe]/", // NAT64, the metadata service
      "http://[64:ff9b:1::1]/", // local-use NAT64
      "http://[2002:7f00:1::]/", // 6to4
      "http://[2002:c0a8:101::1]/", // 6to4, 192.168.1.1
      "http://[2001:0:7f00:1::1]/", // Teredo, server 127.0.0.1
      "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", // Teredo, client 10.0.0.1 (inverted)
    ];

    it("refuses to register URLs whose IPv6 address embeds a private IPv4 address, in every form", async () => {
      const { key } = await h().signup();
      for (const url of embedded) {
        const res = await register(url, key);
        expect(res.status, url).toBe(400);
        expect(res.body.error, url).toMatch(/^url: .* public addresses only$/);
      }
      // The same forms around a public IPv4 address (93.184.216.34) are accepted.
      for (const url of ["http://[64:ff9b::5db8:d822]/", "http://[2002:5db8:d822::1]/"]) {
        expect((await register(url, key)).status, url).toBe(201);
      }
    });

    it("refuses at delivery IPv6 addresses embedding a private IPv4 address, stored or resolved", async () => {
      const { key, tenantId } = await h().signup();
      const stored = (await register("https://example.com/stored", key)).body.data.id;
      await h()
        .ctx.db.update(webhookEndpoints)
        .set({ url: "http://[2002:7f00:1::]/stored" })
        .where(eq(webhookEndpoints.id, stored));
      const named = (await register("http://embedded.customer.example/named", key)).body.data.id;
      await emit(tenantId);
      await runDeliveries(h().ctx, { resolve: dnsAnswering("embedded.customer.example", "64:ff9b::7f00:1") });
      expect((await log(stored, key))[0].last_error).toBe("refused: 2002:7f00:1:: is a private address");
      expect((await log(named, key))[0].last_error).toBe(
        "refused: embedded.customer.example resolves to a private address",
      );
    });

    it("accepts public URLs, including addresses just outside the private ranges", async () => {
      const { key } = await h().signup();
      for (const url of [
        "https://example.com/hooks/gpuplane",
        "http://93.184.216.34/hook",
        "https://[2606:4700:4700::1111]/hook",
        "http://172.32.0.1/", // past 172.16/12
        "http://100.128.0.1/", // past 100.64/10
        "http://192.169.0.1/",
      ]) {
        expect((await register(url, key)).status, url).toBe(201);
      }
    });

    it("refuses a private URL on update and keeps the old one", async () => {
      const { key } = await h().signup();
      const id = (await register("https://example.com/h", key)).body.data.id;
      const res = await h().patch(`/api/v1/webhooks/${id}`, { url: "http://10.1.2.3/h" }, key);
      expect(res.status).toBe(400);
      expect(res.body.error).toContain("url: 10.1.2.3");
      expect((await h().get(`/api/v1/webhooks/${id}`, key)).body.data.url).toBe("https://example.com/h");
    });

    it("refuses at delivery a public-looking name that resolves to a private address, and retries as usual", async () => {
      const { key, tenantId } = await h().signup();
      const { port } = new URL(rx.url("/"));
      const created = await register(`http://hooks.customer.example:${port}/rebound`, key);
      expect(created.status).toBe(201); // a name: only its addresses at delivery tell
      const id = created.body.data.id;
      await emit(tenantId);
      // One public answer and one private is enough to refuse: the connection could take either.
      await runDeliveries(h().ctx, { resolve: dnsAnswering("hooks.customer.example", "203.0.113.7", "127.0.0.1") });
      expect(rx.at("/rebound")).toEqual([]);
      const [entry] = await log(id, key);
      expect(entry).toMatchObject({
        status: "pending",
        attempts: 1,
        last_status_code: null,
        last_error: "refused: hooks.customer.example resolves to a private address",
      });
      const w = (await h().get(`/api/v1/webhooks/${id}`, key)).body.data;
      expect(w).toMatchObject({ status: "active", consecutive_failures: 1 });

      // With the switch on, the connection goes to exactly the address the check saw (the receiver on 127.0.0.1).
      h().clock.set(new Date(entry.next_attempt_at));
      const allowing = { ...h().ctx, config: { ...h().ctx.config, webhookAllowPrivate: true } };
      await runDeliveries(allowing, { resolve: dnsAnswering("hooks.customer.example", "127.0.0.1") });
      expect(rx.at("/rebound")).toHaveLength(1);
      expect(rx.at("/rebound")[0].headers.host).toBe(`hooks.customer.example:${port}`);
      expect((await log(id, key))[0]).toMatchObject({ status: "delivered", attempts: 2 });
    });

    it("refuses at delivery URLs stored while private addresses were allowed", async () => {
      const { key, tenantId } = await h().signup();
      const { port } = new URL(rx.url("/"));
      const literal = (await register("https://example.com/a", key)).body.data.id;
      const named = (await register("https://example.com/b", key)).body.data.id;
      await h()
        .ctx.db.update(webhookEndpoints)
        .set({ url: rx.url("/literal") })
        .where(eq(webhookEndpoints.id, literal));
      await h()
        .ctx.db.update(webhookEndpoints)
        .set({ url: `http://localhost:${port}/named` })
        .where(eq(webhookEndpoints.id, named));
      await emit(tenantId);
      await runDeliveries(h().ctx); // the system resolver: localhost is loopback
      expect(rx.at("/literal")).toEqual([]);
      expect(rx.at("/named")).toEqual([]);
      expect((await log(literal, key))[0].last_error).toBe("refused: 127.0.0.1 is a private address");
      expect((await log(named, key))[0].last_error).toBe("refused: localhost resolves to a private address");
    });
  },
  { env: { GPUPLANE_WEBHOOK_ALLOW_PRIVATE: "off" }, manualClock: true },
);
