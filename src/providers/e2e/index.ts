import { z } from "zod";
import type { CircuitBreaker } from "../upstream/breaker.js";
import { UpstreamError } from "../upstream/errors.js";
import { gpuFormFactorOf, gpuModelOf, usdPerHourToMicros } from "../upstream/gpus.js";
import { parseAnswer, UpstreamHttp } from "../upstream/http.js";
import type { LaunchRequest, UpstreamCloud, UpstreamInstance, UpstreamType } from "../upstream/types.js";

/** E2E Networks' MyAccount API (e2ectl `src/myaccount/transport.ts` DEFAULT_BASE_URL). */
export const E2E_URL = "https://api.e2enetworks.com/myaccount/api/v1";

/**
 * Every MyAccount answer: `{code, data, errors, message}` (e2ectl `ApiEnvelope`). A failure can come as HTTP 200 with
 * `code` (or `status_code`) of 400 or more, a `detail`, or `errors: true`: e2ectl's transport treats each as a failure,
 * and so does this adapter.
 */
const envelope = z.object({
  code: z.number(),
  data: z.unknown(),
  errors: z.unknown().optional(),
  message: z.string(),
});
const node = z.object({
  id: z.number(),
  name: z.string(),
  status: z.string(),
  public_ip_address: z.string().nullish(),
});
const nodesPage = envelope.extend({
  data: z.array(z.unknown()),
  total_page_number: z.number().optional(),
});
const plan = z.object({
  name: z.string(),
  plan: z.string(),
  image: z.string(),
  location: z.string().optional(),
  node_description: z.string().optional(),
  available_inventory_status: z.boolean().optional(),
  currency: z.string().optional(),
  specs: z
    .object({
      sku_name: z.string().optional(),
      cpu: z.number().optional(),
      ram: z.union([z.string(), z.number()]).optional(),
      disk_space: z.number().optional(),
      family: z.string().optional(),
      price_per_hour: z.number().optional(),
    })
    .optional(),
});
const createData = z.object({
  node_create_response: z.array(node).default([]),
  total_number_of_node_created: z.number(),
  total_number_of_node_requested: z.number(),
});

/**
 * E2E's node statuses (e2ectl node docs and tests; terraform-provider-e2e v2.1.6 `resource_node.go`, which spells the
 * stopped one "Powered off"); compared case-insensitively. A deleted node is no longer listed.
 */
const states: Record<string, UpstreamInstance["state"]> = {
  creating: "pending",
  reinstalling: "pending",
  running: "running",
  "powered off": "stopped",
};

/** How E2E words "this plan has no room here now" (the plan's `available_inventory_status` said no, or the create). */
const NO_CAPACITY =
  /inventory|out of stock|capacity|not available|no (more )?(nodes?|resources?|gpus?) (are )?available/i;

/** The OS row the GPU plans are read for (`GET /images/` takes display_category, category, os and osversion). */
export interface E2eOs {
  category: string;
  os: string;
  osversion: string;
}

/** "Ubuntu 22.04" → category Ubuntu, os Ubuntu, osversion 22.04. */
export function e2eOs(text: string): E2eOs {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(text);
  if (!match) throw new Error(`configuration: GPUPLANE_E2E_OS must be "<os> <version>", e.g. "Ubuntu 22.04"`);
  return { category: match[1], os: match[1], osversion: match[2] };
}

/**
 * E2E Networks (seed 000's upstream), MyAccount API v1, as E2E's own CLI e2ectl 0.6.1 calls it: every call carries the
 * query `apikey`, `project_id` and `location` and the header `Authorization: Bearer <auth token>`; answers are the
 * `{code, data, errors, message}` envelope, and an error may come inside an HTTP 200. A project is per location, so the
 * adapter reads and launches in each configured location (`GPUPLANE_E2E_LOCATIONS`) and names a node `<id>@<location>`.
 *
 * - offers: the GPU plans of one OS row (`GET /images/?display_category=GPU&category&os&osversion`), available where
 *   the plan's `available_inventory_status` says so; the GPU is read from the plan's `node_description`.
 * - prices: E2E prices an Indian account in INR (`currency`); gpuplane's money is USD, so an INR price is converted at
 *   the operator's `GPUPLANE_E2E_INR_PER_USD`, rounded up to the micro-dollar (an INR plan without a rate is refused).
 * - launch: `POST /nodes/` with the plan and image of the OS row and the customer's public keys as `ssh_keys` (E2E's
 *   create takes the key text itself; e2ectl resolves saved keys to their text before it sends them), one node per
 *   instance. The answer says how many nodes were created of those asked: the created ones are returned (never left
 *   untracked), a shortfall is an error.
 * - stop/start: `PUT /nodes/{id}/actions/ {type: power_off | power_on}`; delete: `DELETE /nodes/{id}/`.
 */
export class E2eCloud implements UpstreamCloud {
  readonly name = "e2e" as const;
  readonly canStop = true;
  /**
   * E2E's docs: "At E2E Networks Public Cloud, all services are billed hourly" and plans are "billed hourly"
   * (docs.e2enetworks.com/docs/myaccount/billing/minimum_billing, read 2026-12-05); prepaid Infra Credits are deducted
   * "as soon as an hour finishes" (docs.e2enetworks.com/billing/prepaid-billing.html). Neither page says a part hour is
   * prorated, so each started hour is taken as charged in full (3600 s increments) from the create call to the delete.
   * Only the E1 series says its compute billing pauses while stopped (docs.e2enetworks.com/docs/myaccount/node/
   * e1-series); no other series does, so a powered-off node is taken to keep costing its full price.
   */
  readonly billing = {
    startsAt: "launch",
    endsAt: "call",
    whileStopped: "full",
    incrementSeconds: 3_600,
    minimumSeconds: 0,
    source:
      "docs.e2enetworks.com myaccount/billing/minimum_billing and billing/prepaid-billing (read 2026-12-05): every service billed hourly, deducted as each hour finishes (each started hour taken as charged in full); only the E1 series pauses compute billing while stopped (myaccount/node/e1-series), so a powered-off node keeps its full price",
  } as const;
  private http: UpstreamHttp;
  private locations: string[];
  private os: E2eOs;

  constructor(
    private options: {
      apiKey: string;
      authToken: string;
      projectId: string;
      locations: string[];
      /** The OS row GPU plans are read for and launched with (default Ubuntu 22.04). */
      os?: E2eOs;
      /** Rupees per US dollar, for plans E2E prices in INR. */
      inrPerUsd?: string;
      baseUrl?: string;
      breaker: CircuitBreaker;
      timeoutMs?: number;
    },
  ) {
    this.locations = options.locations.length ? options.locations : ["Delhi"];
    this.os = options.os ?? { category: "Ubuntu", os: "Ubuntu", osversion: "22.04" };
    this.http = new UpstreamHttp({
      provider: "e2e",
      baseUrl: options.baseUrl ?? E2E_URL,
      breaker: options.breaker,
      timeoutMs: options.timeoutMs,
      // The API key and project go in the query (e2ectl buildUrl), the auth token as a bearer header.
      headers: async () => ({ authorization: `Bearer ${options.authToken}` }),
      classify: (status, body) => classify(status, body),
    });
  }

  /** Every GPU plan of the OS row in every configured location, priced in USD micros. */
  async types(): Promise<UpstreamType[]> {
    const out: UpstreamType[] = [];
    for (const location of this.locations) {
      for (const p of await this.plans(location)) {
        const gpu = gpuOf(p);
        if (!gpu) continue;
        out.push({
          upstreamType: skuOf(p),
          upstreamRegion: location,
          ...gpu,
          vcpus: p.specs?.cpu ?? 0,
          ramGb: Math.floor(Number(p.specs?.ram ?? 0)),
          diskGb: p.specs?.disk_space ?? 0,
          pricePerHourMicros: this.usdMicros(p),
          available: p.available_inventory_status === true,
        });
      }
    }
    return out;
  }

  async launch(request: LaunchRequest): Promise<string> {
    const { ids, error } = await this.launchNodes(request, 1);
    if (!ids.length) throw error!;
    // More than asked (never seen, but a node must not run unseen): keep the first, delete the rest.
    if (ids.length > 1) await this.terminate(ids.slice(1));
    return ids[0];
  }

  /**
   * Creates `count` nodes of the plan in one call. E2E may create some and not others: the ids of those created are
   * returned with the error that says why the rest were not, so the caller tracks (or deletes) every node that exists.
   */
  async launchNodes(request: LaunchRequest, count: number): Promise<{ ids: string[]; error: UpstreamError | null }> {
    const location = request.upstreamRegion;
    const keys = request.sshPublicKeys.map((k) => k.trim()).filter(Boolean);
    if (!keys.length) throw new UpstreamError("e2e", "rejected", "an E2E node needs at least one SSH key");
    // The plan string names the OS image and the location: read it from the OS row's plans, with its stock now.
    const row = (await this.plans(location)).find((p) => skuOf(p) === request.upstreamType);
    if (!row) throw new UpstreamError("e2e", "rejected", `plan ${request.upstreamType} is not offered in ${location}`);
    if (row.image !== request.image) {
      throw new UpstreamError(
        "e2e",
        "rejected",
        `plan ${request.upstreamType} in ${location} comes with image ${row.image}, not ${request.image}`,
      );
    }
    if (row.available_inventory_status !== true) {
      throw new UpstreamError("e2e", "capacity", `plan ${request.upstreamType} is out of inventory in ${location}`);
    }
    const answer = await this.http.call("POST", this.path("/nodes/", location), {
      body: {
        name: request.name,
        label: "gpuplane",
        plan: row.plan,
        image: row.image,
        number_of_instances: count,
        ssh_keys: keys,
        start_scripts: [],
        backups: false,
        default_public_ip: false,
        disable_password: true,
        enable_bitninja: false,
        is_ipv6_availed: false,
        is_saved_image: false,
      },
    });
    // Nodes the answer says exist are tracked even when the envelope says the call failed.
    const raw = answer as { data?: unknown } | null;
    const created = createData.safeParse(raw?.data);
    const ids = created.success ? created.data.node_create_response.map((n) => `${n.id}@${location}`) : [];
    let error: UpstreamError | null = null;
    try {
      unwrap(answer, "create node");
      const data = parseAnswer("e2e", createData, raw?.data, "create node");
      const { total_number_of_node_created: made, total_number_of_node_requested: asked } = data;
      if (made < asked || ids.length < asked) {
        const message = (answer as { message?: string }).message ?? "";
        error = new UpstreamError(
          "e2e",
          NO_CAPACITY.test(message) ? "capacity" : "rejected",
          `created ${Math.max(made, ids.length)} of ${asked} nodes: ${message || "no reason given"}`,
        );
      }
    } catch (e) {
      if (!(e instanceof UpstreamError)) throw e;
      error = e;
    }
    return { ids, error };
  }

  async list(): Promise<UpstreamInstance[]> {
    const out: UpstreamInstance[] = [];
    for (const location of this.locations) {
      for (let page = 1; ; page++) {
        const answer = await this.http.call("GET", this.path("/nodes/", location, { page_no: page, per_page: 100 }));
        const body = parseAnswer("e2e", nodesPage, unwrap(answer, "list nodes"), "list nodes");
        for (const raw of body.data) out.push(nodeOf(raw, location));
        if (page >= (body.total_page_number ?? 1)) break;
      }
    }
    return out;
  }

  async terminate(ids: string[]): Promise<void> {
    for (const ref of ids) {
      const { id, location } = parseRef(ref);
      try {
        unwrap(await this.http.call("DELETE", this.path(`/nodes/${id}/`, location)), "delete node");
      } catch (error) {
        // Already deleted: done.
        if (!(error instanceof UpstreamError && error.kind === "gone")) throw error;
      }
    }
  }

  async stop(ref: string): Promise<void> {
    await this.action(ref, "power_off");
  }

  async start(ref: string): Promise<void> {
    await this.action(ref, "power_on");
  }

  private async action(ref: string, type: "power_on" | "power_off") {
    const { id, location } = parseRef(ref);
    const answer = await this.http.call("PUT", this.path(`/nodes/${id}/actions/`, location), {
      body: { type },
      idempotent: true,
    });
    unwrap(answer, type);
  }

  private async plans(location: string): Promise<z.infer<typeof plan>[]> {
    const query = { display_category: "GPU", ...this.os };
    const answer = await this.http.call("GET", this.path("/images/", location, query));
    const data = parseAnswer("e2e", envelope, unwrap(answer, "plans"), "plans").data;
    return parseAnswer("e2e", z.array(plan), data, "plans");
  }

  /** The plan's hourly price in USD micros: as is in USD, from INR at the operator's rate, rounded up. */
  private usdMicros(p: z.infer<typeof plan>): bigint {
    const price = usdPerHourToMicros(p.specs?.price_per_hour ?? 0);
    const currency = (p.currency ?? "INR").toUpperCase();
    if (currency === "USD") return price;
    if (currency === "INR" && this.options.inrPerUsd) {
      const rate = usdPerHourToMicros(this.options.inrPerUsd);
      if (rate > 0n) return (price * 1_000_000n + rate - 1n) / rate;
    }
    throw new UpstreamError(
      "e2e",
      "rejected",
      `E2E prices plan ${skuOf(p)} in ${currency}; set GPUPLANE_E2E_INR_PER_USD (rupees per US dollar) to sell it`,
    );
  }

  private path(path: string, location: string, query: Record<string, string | number> = {}): string {
    const params = new URLSearchParams({
      apikey: this.options.apiKey,
      project_id: this.options.projectId,
      location,
      ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
    });
    return `${path}?${params}`;
  }
}

const skuOf = (p: z.infer<typeof plan>) => p.specs?.sku_name ?? p.name;

/** The GPU of a plan, from its description ("1 x NVIDIA H100 SXM 80 GB"); null for a plan without one. */
function gpuOf(p: z.infer<typeof plan>) {
  const text = p.node_description ?? "";
  const gpuModel = gpuModelOf(text);
  if (!gpuModel) return null;
  const count = /(\d+)\s*x\b/i.exec(text);
  const memory = /(\d+)\s*GB/i.exec(text);
  return {
    gpuModel,
    gpuCount: count ? Number(count[1]) : 1,
    gpuMemoryGb: memory ? Number(memory[1]) : 0,
    formFactor: gpuFormFactorOf(text),
  };
}

function nodeOf(raw: unknown, location: string): UpstreamInstance {
  const parsed = node.safeParse(raw);
  if (!parsed.success) {
    // A node we cannot read is unknown (its last state kept), never dropped: dropped, it would read as gone.
    const id = (raw as { id?: unknown } | null)?.id;
    const status = (raw as { status?: unknown } | null)?.status;
    return {
      id: `${String(id)}@${location}`,
      name: "",
      status: typeof status === "string" ? status : "unreadable",
      state: "unknown",
      ipAddress: null,
      sshPort: null,
      sshUser: "root",
    };
  }
  const n = parsed.data;
  const state = states[n.status.toLowerCase()] ?? "unknown";
  // Running without a public address is not reachable yet.
  const reachable = state === "running" && Boolean(n.public_ip_address);
  return {
    id: `${n.id}@${location}`,
    name: n.name,
    status: n.status,
    state: state === "running" && !reachable ? "pending" : state,
    ipAddress: reachable ? n.public_ip_address! : null,
    sshPort: reachable ? 22 : null,
    sshUser: "root",
  };
}

function parseRef(ref: string): { id: string; location: string } {
  const at = ref.lastIndexOf("@");
  if (at <= 0) throw new UpstreamError("e2e", "rejected", `not an E2E node reference: ${ref}`);
  return { id: encodeURIComponent(ref.slice(0, at)), location: ref.slice(at + 1) };
}

/**
 * The envelope's own verdict on an HTTP 2xx answer: e2ectl's transport treats `code` or `status_code` ≥ 400, a
 * `detail`, or `errors: true` as a failure whatever the HTTP status was, and so does gpuplane.
 */
function unwrap(answer: unknown, what: string): unknown {
  const body = (answer ?? {}) as Record<string, unknown>;
  const code = typeof body.code === "number" ? body.code : typeof body.status_code === "number" ? body.status_code : 0;
  if (code >= 400 || typeof body.detail === "string" || body.errors === true) {
    const { kind, message } = classify(code || 400, body);
    throw new UpstreamError("e2e", kind, `${what}: ${message} (HTTP 200)`, null, 200);
  }
  return answer;
}

/** An E2E failure, from its envelope (`code`, `message`, `errors`), a bare `detail`, or the HTTP status alone. */
function classify(status: number, body: unknown): { kind: UpstreamError["kind"]; message: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const code = typeof b.code === "number" ? b.code : typeof b.status_code === "number" ? b.status_code : status;
  const text = [b.message, b.detail, typeof b.errors === "string" ? b.errors : null]
    .filter((t): t is string => typeof t === "string" && t.trim() !== "")
    .join("; ");
  const message = `${code}: ${text || `HTTP ${status}`}`;
  if (code === 401 || code === 403 || status === 401 || status === 403) return { kind: "auth", message };
  if (code === 404 || status === 404) return { kind: "gone", message };
  if (NO_CAPACITY.test(text)) return { kind: "capacity", message };
  if (code >= 500) return { kind: "transient", message };
  return { kind: "rejected", message };
}
