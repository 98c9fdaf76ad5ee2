import { beforeAll, expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { fillPath, type Operation, operations, unboundedIntegers } from "./operations.js";

/**
 * The same checks over every operation in /openapi.json (unkey's common-tests shape): a route added later is
 * covered without a line here, and one without an access declaration is named.
 */
describeEachDb("every operation", (h) => {
  let doc: any;
  let ops: Operation[];
  beforeAll(async () => {
    doc = (await h().get("/openapi.json", null)).body;
    ops = operations(doc, h().app.openAPIRegistry.definitions);
  });
  const notPublic = () => ops.filter((o) => o.access?.auth !== "public");
  const bodyFor = (o: Operation) => (o.method === "GET" || o.method === "DELETE" ? undefined : {});
  const ed25519 = (n: number) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${"B".repeat(42)}${n} x`;

  it("declares its access in its createRoute, and /openapi.json's security agrees", () => {
    expect(ops.length).toBeGreaterThan(80);
    expect(ops.filter((o) => !o.access).map((o) => `${o.method} ${o.path}`)).toEqual([]);
    for (const o of ops) {
      // Public operations need no key (security: []); every other one inherits the document's key schemes.
      expect(o.access?.auth === "public" ? o.security : undefined, `${o.method} ${o.path}`).toEqual(
        o.access?.auth === "public" ? [] : undefined,
      );
    }
  });

  it("declares nullable references so that null validates (anyOf, not allOf with a $ref)", () => {
    const refusingNull: string[] = [];
    const walk = (node: any, at: string) => {
      if (!node || typeof node !== "object") return;
      const all: any[] | undefined = node.allOf;
      if (all?.some((s) => s.$ref) && all.some((s) => Array.isArray(s.type) && s.type.includes("null"))) {
        refusingNull.push(at);
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
    };
    walk(doc, "");
    expect(refusingNull).toEqual([]);
  });

  it("bounds every integer it takes to what its column holds", () => {
    const offenders = ops.flatMap((o) => [
      ...o.parameters.flatMap((p) => unboundedIntegers(doc, p.schema, `${o.method} ${o.path} ${p.in}:${p.name}`)),
      ...unboundedIntegers(doc, o.body, `${o.method} ${o.path} body`),
    ]);
    expect(offenders).toEqual([]);
  });

  it("answers 401 without a key, on every operation that is not public", async () => {
    for (const o of notPublic()) {
      const res = await h().request(
        o.method,
        fillPath(o.path, () => "1"),
        { key: null, body: bodyFor(o) },
      );
      expect(res.status, `${o.method} ${o.path}`).toBe(401);
      expect(res.body.code).toBe("UNAUTHORIZED");
    }
  });

  it("answers 403 to a key without the declared scope, permission or kind", async () => {
    const { key: all } = await h().signup();
    const narrow = await h().post("/api/v1/api-keys", { label: "narrow", scopes: ["waitlist"] }, all);
    const otherNarrow = await h().post("/api/v1/api-keys", { label: "narrow2", scopes: ["volumes"] }, all);
    const readOnly = await h().post("/api/v1/api-keys", { label: "ro", permissions: ["read"] }, all);
    for (const o of notPublic()) {
      const a = o.access!;
      let key: string | undefined;
      if (a.auth === "operator" || a.auth === "node") key = all;
      else if (a.auth === "tenant") {
        key =
          a.permission !== "read"
            ? readOnly.body.data.key
            : a.scope === "waitlist"
              ? otherNarrow.body.data.key
              : narrow.body.data.key;
      }
      if (!key) continue; // `key` routes: any valid key is enough
      const res = await h().request(
        o.method,
        fillPath(o.path, () => "1"),
        { key, body: bodyFor(o) },
      );
      // A body or parameter may be refused first; what must never happen is the operation going ahead.
      expect([400, 403], `${o.method} ${o.path} → ${res.status} ${res.text}`).toContain(res.status);
      if (o.method === "GET" || o.method === "DELETE") expect(res.status, `${o.method} ${o.path}`).toBe(403);
    }
  });

  it("answers 404 for another tenant's resources, on every operation under them", async () => {
    const a = await h().signup();
    const b = await h().signup();
    const made = {
      "/ssh-keys": await h().post("/api/v1/ssh-keys", { name: "a", public_key: ed25519(1) }, a.key),
      "/webhooks": await h().post("/api/v1/webhooks", { url: "https://example.com/hook", events: ["*"] }, a.key),
      "/api-keys": await h().post("/api/v1/api-keys", { label: "a's" }, a.key),
    };
    let checked = 0;
    for (const [base, res] of Object.entries(made)) {
      expect(res.status, `${base}: ${res.text}`).toBe(201);
      const id = String(res.body.data.id);
      const under = ops.filter((o) => o.path.startsWith(`/api/v1${base}/{id}`) && o.access?.auth === "tenant");
      for (const o of under) {
        if (o.method !== "GET" && o.method !== "DELETE") continue;
        const other = await h().request(
          o.method,
          fillPath(o.path, (n) => (n === "id" ? id : "1")),
          { key: b.key },
        );
        expect(other.status, `${o.method} ${o.path} as another tenant`).toBe(404);
        checked++;
      }
      // Still there for its owner.
      if (ops.some((o) => o.method === "GET" && o.path === `/api/v1${base}/{id}`)) {
        expect((await h().get(`/api/v1${base}/${id}`, a.key)).status, base).toBe(200);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it("answers 400 to integers past int4 in the path and the query", async () => {
    for (const o of ops) {
      for (const p of o.parameters.filter((p) => p.schema?.type === "integer")) {
        const path = fillPath(o.path, (n) => (p.in === "path" && n === p.name ? "2147483648" : "1"));
        const url = p.in === "query" ? `${path}?${p.name}=2147483648` : path;
        const res = await h().request(o.method, url, { body: bodyFor(o) });
        expect(res.status, `${o.method} ${url}`).toBe(400);
      }
    }
  });

  it("answers 400 naming an unknown query parameter, on every operation under /api/v1 (issue 23)", async () => {
    for (const o of ops.filter((o) => o.path.startsWith("/api/v1/"))) {
      const url = `${fillPath(o.path, () => "1")}?not_a_parameter=1`;
      const res = await h().request(o.method, url, { body: bodyFor(o) });
      if (res.status === 401 || res.status === 403 || res.status === 429) continue; // refused before validation
      expect(res.status, `${o.method} ${url}: ${res.text}`).toBe(400);
      // A body is validated first on some routes; where there is none, the message names the parameter.
      if (o.method === "GET") expect(res.body.error, `${o.method} ${url}`).toContain("not_a_parameter");
    }
  });

  it("answers 400 to a cursor from another list and to an empty update", async () => {
    const { key } = await h().signup();
    await h().post("/api/v1/ssh-keys", { name: "c1", public_key: ed25519(2) }, key);
    await h().post("/api/v1/ssh-keys", { name: "c2", public_key: ed25519(3) }, key);
    const foreign = (await h().get("/api/v1/ssh-keys?limit=1")).body.meta.cursor;
    expect(foreign).toEqual(expect.any(String));
    const lists = ops.filter((o) => o.method === "GET" && o.parameters.some((p) => p.name === "cursor"));
    expect(lists.length).toBeGreaterThan(5);
    for (const o of lists.filter((o) => o.path !== "/api/v1/ssh-keys")) {
      const res = await h().get(`${fillPath(o.path, () => "1")}?cursor=${foreign}`);
      expect(res.status, `${o.path}: ${res.text}`).toBe(400);
    }
    for (const o of ops.filter((o) => o.method === "PATCH")) {
      const res = await h().patch(
        fillPath(o.path, () => "1"),
        {},
      );
      expect(res.status, `PATCH ${o.path}`).toBe(400);
    }
  });
});
