import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { type FakeAnswer, FakeCloud, fakeIp } from "./server.js";

export interface LambdaFakeType {
  name: string;
  gpuDescription: string;
  priceCents: number;
  gpus: number;
  vcpus: number;
  memoryGib: number;
  storageGib: number;
}

interface LambdaInstance {
  id: string;
  name: string;
  type: string;
  region: string;
  sshKeyNames: string[];
  n: number;
  createdAt: number;
  activeAt: number | null;
  terminatedAt: number | null;
}

const error = (status: number, code: string, message: string, suggestion?: string): FakeAnswer => ({
  status,
  body: { error: { code, message, ...(suggestion ? { suggestion } : {}) } },
});

/**
 * Lambda Cloud's public API as SkyPilot and dstack see it: `{data}` / `{error:{code,message,suggestion}}`, bearer
 * key, instances that boot (no IP) and turn active after `bootMs`, terminate → terminating → gone after
 * `terminateMs`, one launch per `launchIntervalMs` (429, plain text, Retry-After), and a capacity list that can say
 * yes while the launch says `instance-operations/launch/insufficient-capacity`.
 */
export class LambdaFake extends FakeCloud {
  apiKey = `secret_${randomBytes(8).toString("hex")}`;
  bootMs = 60_000;
  terminateMs = 5_000;
  launchIntervalMs = 0;
  types: LambdaFakeType[] = [
    // Lambda sells the H100 as SXM5 and as PCIe: gpuplane's `GPU.H100.1x` (seed 001's SXM5 `1H100.80S.30V`) is the
    // SXM5 one; the PCIe one maps onto a type of its own (catalog mapping by form factor, issue 25).
    {
      name: "gpu_1x_h100_sxm5",
      gpuDescription: "H100 (80 GB SXM5)",
      priceCents: 249,
      gpus: 1,
      vcpus: 26,
      memoryGib: 225,
      storageGib: 2750,
    },
    {
      name: "gpu_1x_h100_pcie",
      gpuDescription: "H100 (80 GB PCIe)",
      priceCents: 249,
      gpus: 1,
      vcpus: 26,
      memoryGib: 200,
      storageGib: 1000,
    },
    {
      name: "gpu_8x_h100_sxm5",
      gpuDescription: "H100 (80 GB SXM5)",
      priceCents: 2392,
      gpus: 8,
      vcpus: 208,
      memoryGib: 1800,
      storageGib: 22000,
    },
  ];
  /** What `GET /instance-types` says has capacity, by "type@region". */
  listed = new Set([
    "gpu_1x_h100_sxm5@us-east-1",
    "gpu_1x_h100_sxm5@us-west-1",
    "gpu_1x_h100_pcie@us-east-1",
    "gpu_1x_h100_pcie@us-west-1",
    "gpu_8x_h100_sxm5@us-east-1",
  ]);
  /** What a launch really finds; by default the same as the list. */
  launchable: Set<string> | null = null;
  instances = new Map<string, LambdaInstance>();
  sshKeys = new Map<string, string>();
  private lastLaunch = 0;
  private count = 0;

  env() {
    return { GPUPLANE_LAMBDA_API_KEY: this.apiKey, GPUPLANE_LAMBDA_URL: this.url };
  }

  override reset(): void {
    super.reset();
    this.instances.clear();
    this.sshKeys.clear();
    this.launchable = null;
    this.launchIntervalMs = 0;
    this.lastLaunch = 0;
  }

  /** Lambda's launch limit from now on: one launch per `ms`, counted from the next launch (a fresh window). */
  limitLaunches(ms: number): void {
    this.launchIntervalMs = ms;
    this.lastLaunch = 0;
  }

  protected handle(method: string, path: string, body: any, req: IncomingMessage): FakeAnswer {
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return error(
        401,
        "global/invalid-api-key",
        "API key was invalid, expired, or deleted.",
        "Check your API key or create a new one, then try again.",
      );
    }
    const route = `${method} ${path.split("?")[0]}`;
    if (route === "GET /instance-types") return { status: 200, body: { data: this.instanceTypes() } };
    if (route === "GET /instances") return { status: 200, body: { data: this.visible().map((i) => this.view(i)) } };
    if (route === "POST /ssh-keys") {
      if (this.sshKeys.has(body.name))
        return error(400, "global/invalid-parameters", "SSH key with name already exists");
      this.sshKeys.set(body.name, body.public_key);
      return {
        status: 200,
        body: { data: { id: randomBytes(8).toString("hex"), name: body.name, public_key: body.public_key } },
      };
    }
    if (route === "GET /images") {
      return {
        status: 200,
        body: {
          data: imageFamilies.map((family, n) => ({
            id: `img-${n}`,
            name: family,
            description: family,
            family,
            version: "22.4.5-1459",
            architecture: "x86_64",
            region: { name: "us-east-1", description: "Virginia, USA" },
          })),
        },
      };
    }
    if (route === "POST /instance-operations/launch") return this.launch(body);
    if (route === "POST /instance-operations/terminate") {
      const ids: string[] = body?.instance_ids ?? [];
      const found = ids.map((id) => this.instances.get(id)).filter((i) => i && i.terminatedAt === null);
      if (found.length !== ids.length)
        return error(404, "global/object-does-not-exist", "Specified instance does not exist.");
      for (const i of found) i!.terminatedAt = this.now();
      return { status: 200, body: { data: { terminated_instances: found.map((i) => this.view(i!)) } } };
    }
    return error(404, "global/object-does-not-exist", `no route ${route}`);
  }

  /** An instance vanishes without a terminate (host failure, deleted in Lambda's console). */
  removeBehindBack(id: string): void {
    this.instances.delete(id);
  }

  /** Seconds each instance was active, as Lambda bills it. */
  activeSeconds(id: string): number {
    const i = this.instances.get(id)!;
    if (i.activeAt === null) return 0;
    return Math.floor(((i.terminatedAt ?? this.now()) - i.activeAt) / 1000);
  }

  byName(name: string) {
    return [...this.instances.values()].filter((i) => i.name === name);
  }

  private launch(body: any): FakeAnswer {
    if (!body?.region_name || !body?.instance_type_name) {
      return error(400, "global/invalid-parameters", "region_name and instance_type_name are required");
    }
    // The image is optional (Lambda Stack by default); a family or id it does not have is refused.
    if (body.image !== undefined && !imageFamilies.includes(body.image?.family) && !/^img-\d+$/.test(body.image?.id)) {
      return error(400, "global/invalid-parameters", `Invalid image: ${JSON.stringify(body.image)}`);
    }
    const key = `${body.instance_type_name}@${body.region_name}`;
    const wall = Date.now();
    if (this.launchIntervalMs && wall - this.lastLaunch < this.launchIntervalMs) {
      const wait = Math.ceil((this.launchIntervalMs - (wall - this.lastLaunch)) / 1000);
      return { status: 429, text: "Too Many Requests", headers: { "retry-after": String(wait) } };
    }
    if (!(this.launchable ?? this.listed).has(key)) {
      return error(
        400,
        "instance-operations/launch/insufficient-capacity",
        "Not enough capacity to fulfill launch request.",
        "Choose an instance type with more availability, or try again later.",
      );
    }
    this.lastLaunch = wall;
    const id = randomBytes(16).toString("hex");
    this.instances.set(id, {
      id,
      name: body.name ?? "",
      type: body.instance_type_name,
      region: body.region_name,
      sshKeyNames: body.ssh_key_names ?? [],
      n: this.count++,
      createdAt: this.now(),
      activeAt: null,
      terminatedAt: null,
    });
    return { status: 200, body: { data: { instance_ids: [id] } } };
  }

  private instanceTypes() {
    const data: Record<string, unknown> = {};
    for (const t of this.types) {
      data[t.name] = {
        instance_type: {
          name: t.name,
          description: `${t.gpus}x ${t.gpuDescription}`,
          gpu_description: t.gpuDescription,
          price_cents_per_hour: t.priceCents,
          specs: { vcpus: t.vcpus, memory_gib: t.memoryGib, storage_gib: t.storageGib, gpus: t.gpus },
        },
        regions_with_capacity_available: [...this.listed]
          .filter((k) => k.startsWith(`${t.name}@`))
          .map((k) => ({ name: k.split("@")[1], description: k.split("@")[1] })),
      };
    }
    return data;
  }

  private status(i: LambdaInstance): string {
    const now = this.now();
    if (i.terminatedAt !== null) return "terminating";
    if (now - i.createdAt >= this.bootMs) {
      i.activeAt ??= i.createdAt + this.bootMs;
      return "active";
    }
    return "booting";
  }

  private visible(): LambdaInstance[] {
    const now = this.now();
    return [...this.instances.values()].filter(
      (i) => i.terminatedAt === null || now - i.terminatedAt < this.terminateMs,
    );
  }

  private view(i: LambdaInstance) {
    const status = this.status(i);
    return {
      id: i.id,
      name: i.name,
      ip: status === "active" ? fakeIp(i.n) : null,
      private_ip: status === "active" ? `10.0.0.${1 + (i.n % 250)}` : null,
      status,
      ssh_key_names: i.sshKeyNames,
      file_system_names: [],
      region: { name: i.region, description: i.region },
      instance_type: { name: i.type },
      hostname: status === "active" ? `${fakeIp(i.n).replace(/\./g, "-")}.lambdaspaces.com` : null,
      is_reserved: false,
    };
  }
}

/** Lambda's public image families (GET /images). */
const imageFamilies = ["lambda-stack-22-04", "lambda-stack-24-04", "ubuntu-22-04", "ubuntu-24-04"];
