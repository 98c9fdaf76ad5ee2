import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { CloudContract } from "../contracts/contract.js";
import { DUPLICATE_KEY_MESSAGE, lambdaContract } from "../contracts/lambda.js";
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
  userData: string | null;
  n: number;
  createdAt: number;
  activeAt: number | null;
  terminatedAt: number | null;
}

const notFound = () =>
  error(404, "global/object-does-not-exist", "Specified instance does not exist.", "Check the instance ID.");

const error = (status: number, code: string, message: string, suggestion?: string): FakeAnswer => ({
  status,
  body: { error: { code, message, ...(suggestion ? { suggestion } : {}) } },
});

/**
 * Lambda Cloud's public API, held to its OpenAPI 1.10.0 contract (test/providers/contracts/lambda.ts): `{data}` /
 * `{error:{code,message,suggestion}}`, bearer key, instances that boot (no `ip` field) and turn active after
 * `bootMs`, terminate → terminating → gone after `terminateMs`, exactly one SSH key name per launch, key names unique
 * in the account ("Key name must be unique"), and, when a test turns them on, its rate limits: one request per
 * `requestIntervalMs` and one launch per `launchIntervalMs` (429, plain text, Retry-After). Its capacity list can say
 * yes while the launch says `instance-operations/launch/insufficient-capacity`.
 */
export class LambdaFake extends FakeCloud {
  apiKey = `secret_${randomBytes(8).toString("hex")}`;
  bootMs = 60_000;
  terminateMs = 5_000;
  launchIntervalMs = 0;
  requestIntervalMs = 0;
  /** How many requests were refused with 429 for going past the rate limits. */
  rateLimited = 0;
  override contract: CloudContract | null = lambdaContract;
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
  /** The account's SSH keys, by name. */
  sshKeys = new Map<string, string>();
  private lastLaunch = 0;
  private lastRequest = 0;
  private count = 0;

  /**
   * The fake enforces Lambda's rate limits only when a test turns them on (limitRequests, limitLaunches), so gpuplane
   * is pointed at it without pacing; test/providers/lambda-rules.test.ts runs the adapter's pacing against them.
   */
  env() {
    return {
      GPUPLANE_LAMBDA_API_KEY: this.apiKey,
      GPUPLANE_LAMBDA_URL: this.url,
      GPUPLANE_LAMBDA_REQUEST_INTERVAL_MS: "0",
      GPUPLANE_LAMBDA_LAUNCH_INTERVAL_MS: "0",
    };
  }

  override reset(): void {
    super.reset();
    this.instances.clear();
    this.sshKeys.clear();
    this.launchable = null;
    this.launchIntervalMs = 0;
    this.requestIntervalMs = 0;
    this.rateLimited = 0;
    this.lastLaunch = 0;
    this.lastRequest = 0;
  }

  protected override refuse(problems: string[]): FakeAnswer {
    return error(400, "global/invalid-parameters", problems.join("; "));
  }

  /** Lambda's general limit from now on: one request per `ms`. */
  limitRequests(ms: number): void {
    this.requestIntervalMs = ms;
    this.lastRequest = 0;
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
    const wall = Date.now();
    if (this.requestIntervalMs && wall - this.lastRequest < this.requestIntervalMs)
      return this.tooMany(wall - this.lastRequest, this.requestIntervalMs);
    this.lastRequest = wall;
    const route = `${method} ${path.split("?")[0]}`;
    if (route === "GET /instance-types") return { status: 200, body: { data: this.instanceTypes() } };
    if (route === "GET /instances") return { status: 200, body: { data: this.visible().map((i) => this.view(i)) } };
    const one = /^GET \/instances\/([^/]+)$/.exec(route);
    if (one) {
      const i = this.visible().find((x) => x.id === one[1]);
      return i ? { status: 200, body: { data: this.view(i) } } : notFound();
    }
    if (route === "GET /ssh-keys") {
      return { status: 200, body: { data: [...this.sshKeys].map(([name, key]) => this.keyView(name, key)) } };
    }
    if (route === "POST /ssh-keys") {
      if (this.sshKeys.has(body.name)) return error(400, "global/invalid-parameters", DUPLICATE_KEY_MESSAGE);
      this.sshKeys.set(body.name, body.public_key);
      return { status: 200, body: { data: this.keyView(body.name, body.public_key) } };
    }
    if (route === "GET /images") {
      return {
        status: 200,
        body: {
          data: imageFamilies.map((family, n) => ({
            id: `img-${n}`,
            created_time: "2026-10-01T00:00:00Z",
            updated_time: "2026-10-01T00:00:00Z",
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
      if (found.length !== ids.length) return notFound();
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

  private tooMany(since: number, interval: number): FakeAnswer {
    this.rateLimited++;
    return {
      status: 429,
      text: "Too Many Requests",
      headers: { "retry-after": String(Math.max(1, Math.ceil((interval - since) / 1000))) },
    };
  }

  private keyView(name: string, publicKey: string) {
    return { id: createHash("sha256").update(name).digest("hex").slice(0, 32), name, public_key: publicKey };
  }

  private launch(body: any): FakeAnswer {
    const missing = ((body.ssh_key_names ?? []) as string[]).find((k) => !this.sshKeys.has(k));
    if (missing) {
      return error(
        400,
        "global/object-does-not-exist",
        `SSH key ${missing} does not exist.`,
        "Check the SSH key names in your account.",
      );
    }
    // The image is optional (Lambda Stack by default); a family or id it does not have is refused.
    if (body.image !== undefined && !imageFamilies.includes(body.image?.family) && !/^img-\d+$/.test(body.image?.id)) {
      return error(400, "global/invalid-parameters", `Invalid image: ${JSON.stringify(body.image)}`);
    }
    const key = `${body.instance_type_name}@${body.region_name}`;
    const wall = Date.now();
    if (this.launchIntervalMs && wall - this.lastLaunch < this.launchIntervalMs) {
      return this.tooMany(wall - this.lastLaunch, this.launchIntervalMs);
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
      sshKeyNames: body.ssh_key_names,
      userData: body.user_data ?? null,
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
        instance_type: this.typeView(t),
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

  /** An instance as Lambda answers it: `ip`, `private_ip` and `hostname` are absent until it is active. */
  private view(i: LambdaInstance) {
    const status = this.status(i);
    const t = this.types.find((x) => x.name === i.type)!;
    const can = { available: true };
    const cannot = { available: false, reason_code: status, reason_description: `The instance is ${status}.` };
    return {
      id: i.id,
      name: i.name,
      ...(status === "active"
        ? {
            ip: fakeIp(i.n),
            private_ip: `10.0.0.${1 + (i.n % 250)}`,
            hostname: `${fakeIp(i.n).replace(/\./g, "-")}.lambdaspaces.com`,
          }
        : {}),
      status,
      ssh_key_names: i.sshKeyNames,
      file_system_names: [],
      region: { name: i.region, description: i.region },
      instance_type: this.typeView(t),
      actions: {
        migrate: cannot,
        rebuild: cannot,
        restart: status === "active" ? can : cannot,
        cold_reboot: cannot,
        terminate: status === "terminating" ? cannot : can,
      },
    };
  }

  private typeView(t: LambdaFakeType) {
    return {
      name: t.name,
      description: `${t.gpus}x ${t.gpuDescription}`,
      gpu_description: t.gpuDescription,
      price_cents_per_hour: t.priceCents,
      specs: { vcpus: t.vcpus, memory_gib: t.memoryGib, storage_gib: t.storageGib, gpus: t.gpus },
    };
  }
}

/** Lambda's public image families (GET /images). */
const imageFamilies = ["lambda-stack-22-04", "lambda-stack-24-04", "ubuntu-22-04", "ubuntu-24-04"];
