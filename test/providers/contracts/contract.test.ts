import { describe, expect, it } from "vitest";
import { z } from "zod";
import { answerViolations, type CloudContract, operationFor, requestViolations } from "./contract.js";
import { e2eContract } from "./e2e.js";

// The checker every fake runs, on a two-operation contract: what it lets through and what it names.
const contract: CloudContract = {
  cloud: "example",
  source: "a contract written for this test",
  operations: [
    {
      method: "POST",
      path: "/instances",
      body: z.object({ name: z.string(), ssh_key_names: z.array(z.string()).length(1) }).strict(),
      responses: { 200: z.object({ data: z.object({ id: z.string() }) }), default: z.object({ error: z.string() }) },
    },
    {
      method: "GET",
      path: "/instances/{id}",
      query: z.object({ verbose: z.enum(["true", "false"]) }).partial(),
      responses: { 200: z.object({ data: z.object({ id: z.string() }) }) },
    },
  ],
};

describe("cloud contracts", () => {
  it("finds the operation by method and path template", () => {
    expect(operationFor(contract, "GET", "/instances/abc?verbose=true")?.path).toBe("/instances/{id}");
    expect(operationFor(contract, "DELETE", "/instances/abc")).toBeNull();
    expect(operationFor(contract, "GET", "/instances/abc/extra")).toBeNull();
  });

  it("names what a request breaks: unknown operation, body field, query parameter", () => {
    expect(
      requestViolations(contract, { method: "POST", path: "/instances", body: { name: "a", ssh_key_names: ["k"] } }),
    ).toEqual([]);
    expect(requestViolations(contract, { method: "PUT", path: "/instances", body: {} })[0]).toMatch(
      /PUT \/instances: no such operation in example's contract/,
    );
    const twoKeys = requestViolations(contract, {
      method: "POST",
      path: "/instances",
      body: { name: "a", ssh_key_names: ["k1", "k2"] },
    });
    expect(twoKeys.join()).toMatch(/request body ssh_key_names/);
    expect(
      requestViolations(contract, { method: "GET", path: "/instances/a?verbose=yes", body: undefined }).join(),
    ).toMatch(/query verbose/);
  });

  it("holds answers to the status they were given with", () => {
    const ok = { method: "POST", path: "/instances", body: {}, status: 200, answer: { data: { id: "i-1" } } };
    expect(answerViolations(contract, ok)).toEqual([]);
    expect(answerViolations(contract, { ...ok, answer: { id: "i-1" } }).join()).toMatch(/→ 200: answer data/);
    expect(answerViolations(contract, { ...ok, status: 400, answer: { error: "bad" } })).toEqual([]);
    expect(
      answerViolations(contract, { ...ok, method: "GET", path: "/instances/x", status: 404, answer: "" })[0],
    ).toMatch(/declares no such answer/);
  });
});

// E2E's contract (from e2ectl 0.6.1) on answers its own tests give: an error inside HTTP 200 is still an answer the
// contract knows, and a create without e2ectl's fields is refused.
describe("E2E Networks' contract", () => {
  const q = "?apikey=k&project_id=46429&location=Delhi";
  it("accepts e2ectl's own fixtures, a 401 envelope inside HTTP 200 among them", () => {
    const list = {
      code: 200,
      data: [
        { id: 101, is_locked: false, name: "node-a", plan: "C3.8GB", public_ip_address: "1.1.1.1", status: "Running" },
      ],
      errors: {},
      message: "OK",
      total_count: 1,
      total_page_number: 1,
    };
    expect(
      answerViolations(e2eContract, { method: "GET", path: `/nodes/${q}`, body: undefined, status: 200, answer: list }),
    ).toEqual([]);
    const unauthorized = { code: 401, data: {}, errors: { auth: ["invalid"] }, message: "Unauthorized" };
    expect(
      answerViolations(e2eContract, {
        method: "GET",
        path: `/nodes/${q}`,
        body: undefined,
        status: 200,
        answer: unauthorized,
      }),
    ).toEqual([]);
    const forbidden = { detail: "Authentication credentials were not provided." };
    expect(
      answerViolations(e2eContract, {
        method: "GET",
        path: `/nodes/${q}`,
        body: undefined,
        status: 403,
        answer: forbidden,
      }),
    ).toEqual([]);
  });

  it("refuses a create without the fields e2ectl always sends, and a call without the project context", () => {
    const bare = requestViolations(e2eContract, {
      method: "POST",
      path: `/nodes/${q}`,
      body: { name: "a", plan: "p", image: "i" },
    });
    expect(bare.join()).toMatch(/request body number_of_instances/);
    expect(requestViolations(e2eContract, { method: "GET", path: "/nodes/?apikey=k", body: undefined }).join()).toMatch(
      /query project_id/,
    );
  });
});

describe("Verda's contract (contracts/verda.ts, from its SDKs and CLI)", () => {
  it("refuses what Verda refuses: a hostname with an underscore, delete_permanently without volume_ids", async () => {
    const { verdaContract } = await import("./verda.js");
    const create = { instance_type: "1H100.80S.30V", image: "ubuntu-24.04", description: "d", pricing: "FIXED_PRICE" };
    const post = (hostname: string) =>
      requestViolations(verdaContract, { method: "POST", path: "/instances", body: { ...create, hostname } });
    expect(post("gp-inst-01jd5x")).toEqual([]);
    expect(post("gp-inst_01jd5x").join()).toMatch(/hostname/);
    expect(post("-gp").join()).toMatch(/hostname/);
    const put = (body: unknown) => requestViolations(verdaContract, { method: "PUT", path: "/instances", body });
    expect(put({ id: ["i"], action: "delete", volume_ids: ["v"], delete_permanently: true })).toEqual([]);
    expect(put({ id: ["i"], action: "delete", delete_permanently: true }).join()).toMatch(/volume_ids/);
    expect(
      requestViolations(verdaContract, { method: "GET", path: "/instance-types?currency=gbp", body: undefined }).join(),
    ).toMatch(/currency/);
  });
});
