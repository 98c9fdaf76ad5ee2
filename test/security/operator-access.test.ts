import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, expect, it, vi } from "vitest";
import { openDatabase } from "../../src/db/client.js";
import { runAdminKeyCli } from "../../src/domain/identity/admin-key-cli.js";
import { buildServer } from "../../src/server.js";
import { describeEachDb, OPERATOR_KEY, testConfig } from "../helpers/harness.js";

describeEachDb("the operator cannot lock themselves out", (h) => {
  const whoami = async (key: string) => (await h().get("/api/v1/auth/whoami", key)).body?.data?.key_id as string;

  it("refuses to revoke the last active operator admin key with a 409 saying why", async () => {
    const own = await whoami(OPERATOR_KEY);
    const res = await h().del(`/api/v1/api-keys/${own}`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/last active operator admin key.*gpuplane admin-key/);
    expect((await h().get("/api/v1/tenants")).status).toBe(200);
  });

  it("does not count an admin key that expires within the safety window as the survivor (issue 23, finding 2)", async () => {
    const soon = new Date(Date.now() + 15_000).toISOString();
    const made = await h().post("/api/v1/api-keys", { label: "short-lived", permissions: ["admin"], expires_at: soon });
    expect(made.status, made.text).toBe(201);
    const own = await whoami(OPERATOR_KEY);
    const res = await h().del(`/api/v1/api-keys/${own}`, made.body.data.key);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/does not expire within 24 hours/);
    expect((await h().get("/api/v1/tenants", OPERATOR_KEY)).status).toBe(200);
  });

  it("lets only an admin key revoke an admin key (issue 23, finding 2)", async () => {
    const admin = await h().post("/api/v1/api-keys", { label: "another admin", permissions: ["admin"] });
    const writer = await h().post("/api/v1/api-keys", { label: "writer", permissions: ["read", "write"] });
    const res = await h().del(`/api/v1/api-keys/${admin.body.data.id}`, writer.body.data.key);
    expect(res.status).toBe(403);
    expect(res.body.error).toMatch(/only an admin key/);
    expect((await h().get("/api/v1/tenants", admin.body.data.key)).status).toBe(200);
    // A non-admin key may still be revoked by one with write.
    const reader = await h().post("/api/v1/api-keys", { label: "reader", permissions: ["read"] });
    expect((await h().del(`/api/v1/api-keys/${reader.body.data.id}`, writer.body.data.key)).status).toBe(200);
    expect((await h().del(`/api/v1/api-keys/${admin.body.data.id}`)).status).toBe(200);
  });

  // Last: it revokes the harness's own operator key.
  it("revokes an operator key while another admin key remains; a restart with GPUPLANE_ADMIN_KEY does not bring it back", async () => {
    const made = await h().post("/api/v1/api-keys", { label: "second operator", permissions: ["admin"] });
    expect(made.status, made.text).toBe(201);
    const second = made.body.data.key as string;
    const own = await whoami(OPERATOR_KEY);
    expect((await h().del(`/api/v1/api-keys/${own}`, second)).status).toBe(200);
    expect((await h().get("/api/v1/tenants", OPERATOR_KEY)).status).toBe(401);
    // The second key is now the last one.
    const last = await h().del(`/api/v1/api-keys/${made.body.data.id}`, second);
    expect(last.status).toBe(409);

    // Booting again with the same GPUPLANE_ADMIN_KEY (its hash already stored, revoked) must not crash, and the
    // revocation lasts: a leaked bootstrap key is not revived by a restart (issue 23, finding 1).
    const replica = await h().replica();
    expect(replica.server.generatedKey).toBeUndefined();
    expect((await replica.get("/api/v1/tenants", OPERATOR_KEY)).status).toBe(401);
    expect((await replica.get("/api/v1/tenants", second)).status).toBe(200);
    const again = await h().replica();
    expect((await again.get("/api/v1/tenants", OPERATOR_KEY)).status).toBe(401);
    await again.close();
    await replica.close();
  });
});

describeEachDb("gpuplane admin-key", (h) => {
  let dir: string | undefined;
  afterEach(() => {
    vi.unstubAllEnvs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // On PGlite this migrates a fresh data folder twice (the command, then a server on it): slow on a loaded machine.
  it("issues a working operator key into the server's database and prints it once", { timeout: 240_000 }, async () => {
    let printed = "";
    const out = new Writable({
      write(chunk, _enc, done) {
        printed += chunk;
        done();
      },
    });
    if (h().dbUrl) {
      vi.stubEnv("DATABASE_URL", h().dbUrl!);
    } else {
      dir = mkdtempSync(join(tmpdir(), "gpuplane-admin-key-"));
      vi.stubEnv("GPUPLANE_DATA_DIR", dir);
    }
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    await runAdminKeyCli(["--label", "recovery"], out);
    const key = printed.trim();
    expect(key).toMatch(/^gpk_[0-9a-f]{64}$/);

    const database = h().dbUrl ? h().database : await openDatabase({ dataDir: dir! });
    const server = await buildServer(testConfig(), { database, log: pino({ level: "silent" }), workers: false });
    const res = await server.app.request("/api/v1/auth/whoami", { headers: { "x-api-key": key } });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.data).toMatchObject({ operator: true, permissions: ["read", "write", "admin"] });
    await server.close();
    if (!h().dbUrl) await database.close();
  });
});
