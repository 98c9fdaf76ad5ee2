import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { CloudContract } from "../contracts/contract.js";
import { e2eContract } from "../contracts/e2e.js";
import { type FakeAnswer, FakeCloud, fakeIp } from "./server.js";

type Status = "Creating" | "Running" | "Powered off";

interface Node {
  id: number;
  name: string;
  plan: string;
  sku: string;
  image: string;
  location: string;
  sshKeys: string[];
  n: number;
  status: Status;
  createdAt: number;
  readyAt: number;
  deletedAt: number | null;
}

export interface E2ePlan {
  sku: string;
  /** The GPU as E2E's plan describes it. */
  description: string;
  cpu: number;
  ram: string;
  disk: number;
  /** Rupees per hour. */
  priceInr: number;
  series: string;
}

const LOCATIONS = ["Delhi", "Mumbai"];
const IMAGE = "Ubuntu-22.04-Distro";
export const E2E_INR_PER_USD = "83";

const ok = (data: unknown, message = "Success", extra: Record<string, unknown> = {}): FakeAnswer => ({
  status: 200,
  body: { code: 200, data, errors: {}, message, ...extra },
});
/** E2E's failures: the envelope with its code, sent with `http` (HTTP 200 for many of them). */
const fail = (code: number, message: string, http = code, errors: Record<string, unknown> = {}): FakeAnswer => ({
  status: http,
  body: { code, data: {}, errors, message },
});

/**
 * E2E Networks' MyAccount API v1, held to its contract (test/providers/contracts/e2e.ts, from e2ectl 0.6.1): every call
 * needs the bearer auth token and the `apikey`, `project_id` and `location` query; a wrong API key is a 401 envelope
 * inside HTTP 200 (as e2ectl's transport test answers it), a missing or wrong token a 403 `{detail}`; plans of the GPU OS
 * row with `available_inventory_status` per location and INR prices; a node is Creating for `bootMs`, then Running with a
 * public IP; power_off / power_on; delete. Quirks: a create with too little credit is refused inside HTTP 200
 * (`credit = false`); a create asking for more nodes than the location has left creates those it can and says so only
 * in its counts (a partial success, HTTP 200). Billing as E2E's docs say: hourly from the create to the delete, each
 * started hour in full, powered off or not.
 */
export class E2eFake extends FakeCloud {
  apiKey = `e2e-${randomBytes(8).toString("hex")}`;
  authToken = `eyJ${randomBytes(16).toString("hex")}`;
  projectId = "46429";
  bootMs = 60_000;
  /** False: the account's credit does not cover a launch (refused inside HTTP 200). */
  credit = true;
  override contract: CloudContract | null = e2eContract;
  plans: E2ePlan[] = [
    {
      sku: "GDC3.H100-1x",
      description: "1 x NVIDIA H100 SXM 80 GB",
      cpu: 30,
      ram: "250.00",
      disk: 1000,
      priceInr: 249,
      series: "GDC3",
    },
    {
      sku: "GDC3.A100-2x",
      description: "2 x NVIDIA A100 PCIe 80 GB",
      cpu: 32,
      ram: "230.00",
      disk: 1500,
      priceInr: 340,
      series: "GDC3",
    },
  ];
  /** Nodes of each plan each location can still create (`${location}/${sku}` → count). */
  inventory = new Map<string, number>();
  nodes = new Map<number, Node>();
  private nextId = 10_100;
  private count = 0;

  constructor() {
    super();
    this.restock();
  }

  env() {
    return {
      GPUPLANE_E2E_API_KEY: this.apiKey,
      GPUPLANE_E2E_AUTH_TOKEN: this.authToken,
      GPUPLANE_E2E_PROJECT_ID: this.projectId,
      GPUPLANE_E2E_LOCATIONS: LOCATIONS.join(","),
      GPUPLANE_E2E_INR_PER_USD: E2E_INR_PER_USD,
      GPUPLANE_E2E_URL: this.url,
    };
  }

  override reset(): void {
    super.reset();
    this.nodes.clear();
    this.credit = true;
    this.bootMs = 60_000;
    this.restock();
  }

  restock(): void {
    for (const l of LOCATIONS) for (const p of this.plans) this.inventory.set(`${l}/${p.sku}`, 10);
  }

  setInventory(location: string, sku: string, count: number): void {
    this.inventory.set(`${location}/${sku}`, count);
  }

  live(): Node[] {
    return [...this.nodes.values()].filter((n) => n.deletedAt === null);
  }

  byName(name: string): Node[] {
    return this.live().filter((n) => n.name === name);
  }

  /** What E2E charges for the node in rupees: each started hour from the create to the delete, powered off or not. */
  chargeInr(id: number): number {
    const n = this.nodes.get(id)!;
    const end = n.deletedAt ?? this.now();
    const hours = Math.ceil((end - n.createdAt) / 3_600_000);
    return hours * this.plans.find((p) => p.sku === n.sku)!.priceInr;
  }

  /** The node disappears without a delete from gpuplane (deleted in E2E's console). */
  removeBehindBack(id: number): void {
    this.nodes.get(id)!.deletedAt = this.now();
  }

  protected override refuse(problems: string[]): FakeAnswer {
    if (problems.some((p) => p.includes("no such operation"))) return fail(404, "Not Found.", 404);
    return fail(400, "Invalid request.", 400, { detail: problems });
  }

  protected handle(method: string, path: string, body: any, req: IncomingMessage): FakeAnswer {
    if (req.headers.authorization !== `Bearer ${this.authToken}`) {
      return { status: 403, body: { detail: "Authentication credentials were not provided." } };
    }
    const query = new URLSearchParams(path.split("?")[1] ?? "");
    if (query.get("apikey") !== this.apiKey) return fail(401, "Unauthorized", 200, { auth: ["invalid"] });
    if (query.get("project_id") !== this.projectId) return fail(400, "Project not found", 200);
    const location = query.get("location")!;
    if (!LOCATIONS.includes(location)) return fail(400, `Location ${location} is not available`, 200);
    const route = `${method} ${path.split("?")[0]}`;
    if (route === "GET /images/") return ok(this.catalog(location, query));
    if (route === "GET /nodes/") return this.list(location, query);
    if (route === "POST /nodes/") return this.create(location, body);
    if (route === "GET /ssh_keys/") return ok([]);
    const m = /^(GET|DELETE|PUT) \/nodes\/(\d+)\/(actions\/)?$/.exec(route);
    const node = m ? this.nodes.get(Number(m[2])) : undefined;
    if (!m || !node || node.deletedAt !== null || node.location !== location) return fail(404, "Node not found", 404);
    this.settle(node);
    if (m[1] === "GET") return ok(this.view(node));
    if (m[1] === "DELETE") {
      node.deletedAt = this.now();
      return ok({}, "Success");
    }
    return this.action(node, body.type);
  }

  private catalog(location: string, query: URLSearchParams) {
    if (query.get("display_category") !== "GPU" || query.get("os") !== "Ubuntu" || query.get("osversion") !== "22.04")
      return [];
    return this.plans.map((p) => ({
      available_inventory_status: (this.inventory.get(`${location}/${p.sku}`) ?? 0) > 0,
      currency: "INR",
      image: IMAGE,
      location,
      name: p.sku,
      node_description: p.description,
      cpu_type: "vCPU",
      os: { category: "Ubuntu", image: IMAGE, name: "Ubuntu", version: "22.04" },
      plan: `${p.series}-${p.cpu}vCPU-${Math.round(Number(p.ram))}RAM-${p.disk}DISK-${p.sku}-Ubuntu-22.04-${location}`,
      specs: {
        committed_sku: [],
        cpu: p.cpu,
        disk_space: p.disk,
        family: "GPU",
        minimum_billing_amount: 0,
        price_per_hour: p.priceInr,
        price_per_month: p.priceInr * 730,
        ram: p.ram,
        series: p.series,
        sku_name: p.sku,
      },
    }));
  }

  private list(location: string, query: URLSearchParams): FakeAnswer {
    const perPage = Number(query.get("per_page") ?? 100);
    const page = Number(query.get("page_no") ?? 1);
    const all = this.live()
      .filter((n) => n.location === location)
      .map((n) => this.view(n));
    const pages = Math.ceil(all.length / perPage);
    return ok(all.slice((page - 1) * perPage, page * perPage), "OK", {
      total_count: all.length,
      total_page_number: pages,
    });
  }

  private create(location: string, body: any): FakeAnswer {
    const p = this.plans.find((x) => body.plan.endsWith(`-${x.sku}-Ubuntu-22.04-${location}`));
    if (!p || body.image !== IMAGE) return fail(400, `Invalid plan ${body.plan} or image ${body.image}`, 200);
    if (!this.credit)
      return fail(400, "Insufficient credit balance to launch the node. Please add Infra Credits.", 200);
    const key = `${location}/${p.sku}`;
    const left = this.inventory.get(key) ?? 0;
    const made = Math.min(left, body.number_of_instances);
    this.inventory.set(key, left - made);
    const now = this.now();
    const created: Node[] = [];
    for (let i = 0; i < made; i++) {
      const node: Node = {
        id: this.nextId++,
        name: body.name,
        plan: body.plan,
        sku: p.sku,
        image: body.image,
        location,
        sshKeys: body.ssh_keys,
        n: this.count++,
        status: "Creating",
        createdAt: now,
        readyAt: now + this.bootMs,
        deletedAt: null,
      };
      this.nodes.set(node.id, node);
      created.push(node);
    }
    const message =
      made < body.number_of_instances
        ? `${made} of ${body.number_of_instances} nodes created: plan ${p.sku} is out of inventory in ${location}`
        : "Node creation initiated";
    return ok(
      {
        node_create_response: created.map((n) => this.view(n)),
        total_number_of_node_created: made,
        total_number_of_node_requested: body.number_of_instances,
      },
      message,
    );
  }

  private action(node: Node, type: "power_on" | "power_off"): FakeAnswer {
    if (node.status === "Creating") return fail(400, "Node is in Creating state", 200);
    node.status = type === "power_off" ? "Powered off" : "Running";
    return ok({
      action_type: type === "power_off" ? "Power Off" : "Power On",
      created_at: new Date(this.now()).toISOString(),
      id: 700 + node.n,
      resource_id: String(node.id),
      status: "In Progress",
    });
  }

  private settle(n: Node) {
    if (n.status === "Creating" && this.now() >= n.readyAt) n.status = "Running";
  }

  private view(n: Node) {
    this.settle(n);
    const p = this.plans.find((x) => x.sku === n.sku)!;
    return {
      id: n.id,
      is_locked: false,
      name: n.name,
      plan: n.sku,
      private_ip_address: `10.0.0.${1 + (n.n % 250)}`,
      public_ip_address: n.status === "Creating" ? null : fakeIp(100 + n.n),
      status: n.status,
      created_at: new Date(n.createdAt).toISOString(),
      location: n.location,
      memory: `${p.ram} GB`,
      vcpus: String(p.cpu),
      price: `Rs. ${p.priceInr}/hour`,
    };
  }
}
