import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { CloudContract } from "../contracts/contract.js";
import { verdaContract } from "../contracts/verda.js";
import { type FakeAnswer, FakeCloud, fakeIp } from "./server.js";

interface VerdaInstance {
  id: string;
  hostname: string;
  type: string;
  location: string;
  image: string;
  n: number;
  createdAt: number;
  /** ordered → provisioning → running on the clock; then offline/deleted by actions. */
  runningAt: number | null;
  status: "ordered" | "provisioning" | "running" | "offline";
  endedAt: number | null;
  /** Deleted instances stay here for the test's accounts, and leave every listing. */
  deleted: boolean;
  /** A shutdown or delete under way (with `actionMs`): the instance runs, and is billed by Verda, until `at`. */
  pending?: { action: "shutdown" | "delete"; at: number; volumeIds: string[]; permanently: boolean };
  /** `FIXED_PRICE` or `DYNAMIC_PRICE` (Verda's default when a create names none), and the hourly price it got. */
  pricing: "FIXED_PRICE" | "DYNAMIC_PRICE";
  pricePerHour: string;
  osVolumeId: string;
  /** When Verda's charge ended (the delete carried out); null while it exists, running or shut down. */
  goneAt: number | null;
}

interface VerdaVolume {
  id: string;
  status: "detached" | "attached" | "deleted";
  name: string;
  size: number;
  type: "NVMe" | "HDD";
  is_os_volume: boolean;
  created_at: string;
  target: string | null;
  location: string;
  instance_id: string | null;
  ssh_key_ids: string[];
}

/** What the fake's account is billed in when a call names no currency (`GET /instance-types?currency=`). */
const EUR_PER_USD = 0.92;

const error = (status: number, code: string, message: string): FakeAnswer => ({ status, body: { code, message } });

/**
 * Verda (formerly DataCrunch), held to the contract of its official SDKs (test/providers/contracts/verda.ts): OAuth2
 * client credentials with tokens that expire after `tokenTtlS` (401 `unauthorized_request` after), a new instance's id
 * answered as plain text, `PUT /instances {id:[…], action, volume_ids, delete_permanently}` answered with one result
 * per instance, and instances that go ordered → provisioning → running on the clock. Its real rules:
 *
 * - a hostname that is not letters, digits and hyphens is refused (`invalid_request`), as the CLI and console refuse it;
 * - a create that names no `pricing` gets Verda's dynamic price, not the fixed `price_per_hour` of `GET /instance-types`;
 * - `GET /instance-types` without `currency` prices in the account's currency (`accountCurrency`);
 * - every instance gets an OS volume; a delete deletes only the volumes its `volume_ids` name (to the trash, or for good
 *   with `delete_permanently`); the others are detached and kept, and charge on;
 * - Verda charges an instance from its create until it is deleted, shut down or not (`charge`).
 */
export class VerdaFake extends FakeCloud {
  override contract: CloudContract | null = verdaContract;
  /** The currency of the account: what `GET /instance-types` prices in when asked for none. */
  accountCurrency: "usd" | "eur" = "usd";
  /** Volumes a delete moved to the trash (`GET /volumes/trash`), out of `GET /volumes`. */
  trash = new Map<string, VerdaVolume>();
  clientId = `client_${randomBytes(4).toString("hex")}`;
  clientSecret = `secret_${randomBytes(8).toString("hex")}`;
  tokenTtlS = 3600;
  provisionMs = 90_000;
  /** How long a shutdown or delete of a running instance takes (0: at once). */
  actionMs = 0;
  tokens = new Map<string, number>();
  refreshTokens = new Set<string>();
  /** Instance types with capacity per location (what `instance-availability` says and a launch finds). */
  availability: Record<string, string[]> = { "FIN-01": ["1H100.80S.30V", "1A100.22V"], "ICE-01": ["1H100.80S.30V"] };
  instances = new Map<string, VerdaInstance>();
  /** Block storage volumes (`POST /volumes`, `PUT /volumes`); a deleted one leaves the map. */
  volumes = new Map<string, VerdaVolume>();
  sshKeys = new Map<string, { name: string; key: string }>();
  private count = 0;

  env() {
    return {
      GPUPLANE_VERDA_CLIENT_ID: this.clientId,
      GPUPLANE_VERDA_CLIENT_SECRET: this.clientSecret,
      GPUPLANE_VERDA_URL: this.url,
    };
  }

  override reset(): void {
    super.reset();
    this.actionMs = 0;
    this.accountCurrency = "usd";
    this.instances.clear();
    this.volumes.clear();
    this.trash.clear();
    this.sshKeys.clear();
  }

  /** A request Verda does not accept: `400 invalid_request`, naming what is wrong. */
  protected override refuse(problems: string[]): FakeAnswer {
    return error(400, "invalid_request", problems.join("; "));
  }

  protected handle(method: string, path: string, body: any, req: IncomingMessage): FakeAnswer {
    const route = `${method} ${path.split("?")[0]}`;
    const query = new URLSearchParams(path.split("?")[1] ?? "");
    if (route === "POST /oauth2/token") return this.token(body);
    const bearer = req.headers.authorization?.replace(/^Bearer /, "") ?? "";
    const expires = this.tokens.get(bearer);
    if (expires === undefined) return error(401, "unauthorized_request", "Invalid access token");
    if (Date.now() >= expires) return error(401, "unauthorized_request", "Access token is expired");
    if (route === "GET /instance-types") {
      const currency = (query.get("currency") as "usd" | "eur" | null) ?? this.accountCurrency;
      return { status: 200, body: types.map((t) => priced(t, currency)) };
    }
    if (route === "GET /images") return { status: 200, body: images };
    if (route === "GET /instance-availability") {
      return {
        status: 200,
        body: Object.entries(this.availability).map(([location_code, availabilities]) => ({
          location_code,
          availabilities,
        })),
      };
    }
    if (route === "GET /sshkeys") {
      return { status: 200, body: [...this.sshKeys].map(([id, k]) => ({ id, name: k.name, key: k.key })) };
    }
    if (route === "POST /sshkeys") {
      const id = randomUUID();
      this.sshKeys.set(id, { name: body.name, key: body.key });
      return { status: 201, text: id };
    }
    if (route === "GET /volumes") return { status: 200, body: [...this.volumes.values()] };
    if (route === "POST /volumes") return this.createVolume(body);
    if (route === "PUT /volumes") return this.volumeAction(body);
    if (route === "GET /instances") return { status: 200, body: this.live().map((i) => this.view(i)) };
    if (method === "GET" && path.startsWith("/instances/")) {
      const i = this.instances.get(path.split("?")[0].slice("/instances/".length));
      if (!i || i.deleted) return error(404, "not_found", "Invalid instance id");
      return { status: 200, body: this.view(i) };
    }
    if (route === "POST /instances") return this.create(body);
    if (route === "PUT /instances") return this.action(body);
    return error(404, "not_found", `no route ${route}`);
  }

  /** Seconds an instance was running (Verda bills running time). */
  runningSeconds(id: string): number {
    const i = this.instances.get(id)!;
    this.advance(i);
    if (i.runningAt === null) return 0;
    return Math.floor(((i.endedAt ?? this.now()) - i.runningAt) / 1000);
  }

  /**
   * What Verda charges for an instance so far, in micro-dollars at the price it was created with: from its create until
   * its delete is carried out, shut down or not ("Shutdown instances continue to charge your account", verda-cli
   * `cmd/vm/action.go`), by the second.
   */
  charge(id: string): bigint {
    const i = this.instances.get(id)!;
    this.advance(i);
    const seconds = BigInt(Math.floor(((i.goneAt ?? this.now()) - i.createdAt) / 1000));
    const micros = BigInt(Math.round(Number(i.pricePerHour) * 1_000_000));
    return (micros * seconds + 3_599n) / 3_600n;
  }

  /** The live instances of a hostname; a gpuplane tag (`gp-inst_…`) is looked up as the hostname it becomes. */
  byHostname(hostname: string) {
    const wanted = hostname.replace(/_/g, "-");
    return this.live().filter((i) => i.hostname === wanted);
  }

  live(): VerdaInstance[] {
    for (const i of this.instances.values()) this.advance(i);
    return [...this.instances.values()].filter((i) => !i.deleted);
  }

  /** An instance vanishes behind gpuplane's back (deleted in Verda's console). */
  removeBehindBack(id: string): void {
    const i = this.instances.get(id)!;
    if (i.status === "running") i.endedAt = this.now();
    i.goneAt = this.now();
    i.deleted = true;
    this.releaseVolumes(i.id, [], false);
  }

  private token(body: any): FakeAnswer {
    const ok =
      (body?.grant_type === "client_credentials" &&
        body.client_id === this.clientId &&
        body.client_secret === this.clientSecret) ||
      (body?.grant_type === "refresh_token" && this.refreshTokens.has(body.refresh_token));
    if (!ok) return error(401, "unauthorized_request", "Invalid client credentials");
    if (body.grant_type === "refresh_token") this.refreshTokens.delete(body.refresh_token);
    const access = randomBytes(16).toString("hex");
    const refresh = randomBytes(16).toString("hex");
    this.tokens.set(access, Date.now() + this.tokenTtlS * 1000);
    this.refreshTokens.add(refresh);
    return {
      status: 200,
      body: {
        access_token: access,
        refresh_token: refresh,
        expires_in: this.tokenTtlS,
        token_type: "Bearer",
        scope: "cloud-api-v1",
      },
    };
  }

  private create(body: any): FakeAnswer {
    if (!body?.instance_type || !body?.image || !body?.hostname) {
      return error(400, "invalid_request", "instance_type, image and hostname are required");
    }
    if (!types.some((t) => t.instance_type === body.instance_type)) {
      return error(400, "invalid_request", `Invalid instance type ${body.instance_type}`);
    }
    // Verda takes an OS image by its image_type (or a custom image's id); anything else is refused.
    if (!images.some((i) => i.image_type === body.image || i.id === body.image)) {
      return error(400, "invalid_request", `Invalid image: ${body.image}`);
    }
    const location = body.location_code ?? "FIN-01";
    if (!(this.availability[location] ?? []).includes(body.instance_type)) {
      return error(
        400,
        "invalid_request",
        `Not enough capacity: ${body.instance_type} is not available in ${location}`,
      );
    }
    // Existing volumes: each must exist, be in the instance's location and be free; they attach at creation.
    const existing: string[] = body.existing_volumes ?? [];
    for (const vid of existing) {
      const v = this.volumes.get(vid);
      if (!v) return error(404, "not_found", `Invalid volume id ${vid}`);
      if (v.location !== location) {
        return error(400, "invalid_request", `Volume ${vid} is in ${v.location}, not ${location}`);
      }
      if (v.instance_id) return error(400, "invalid_request", `Volume ${vid} is attached to another instance`);
    }
    const id = randomUUID();
    for (const vid of existing) {
      const v = this.volumes.get(vid)!;
      v.instance_id = id;
      v.status = "attached";
    }
    // Its OS volume, named and sized as asked (`os_volume`) or by Verda.
    const osVolumeId = randomUUID();
    this.volumes.set(osVolumeId, {
      id: osVolumeId,
      status: "attached",
      name: body.os_volume?.name ?? `OS-NVMe-${body.hostname}`,
      size: body.os_volume?.size ?? 50,
      type: "NVMe",
      is_os_volume: true,
      created_at: new Date(this.now()).toISOString(),
      target: "vda",
      location,
      instance_id: id,
      ssh_key_ids: body.ssh_key_ids ?? [],
    });
    const type = types.find((t) => t.instance_type === body.instance_type)!;
    const pricing = body.pricing === "FIXED_PRICE" ? "FIXED_PRICE" : "DYNAMIC_PRICE";
    this.instances.set(id, {
      pricing,
      pricePerHour: pricing === "FIXED_PRICE" ? type.price_per_hour : type.dynamic_price,
      osVolumeId,
      goneAt: null,
      id,
      hostname: body.hostname,
      type: body.instance_type,
      location,
      image: body.image,
      n: this.count++,
      createdAt: this.now(),
      runningAt: null,
      status: "ordered",
      endedAt: null,
      deleted: false,
    });
    return { status: 202, text: id };
  }

  private action(body: any): FakeAnswer {
    const ids: string[] = Array.isArray(body?.id) ? body.id : [body?.id];
    const found = ids.map((id) => this.instances.get(id)).map((i) => (i?.deleted ? undefined : i));
    if (found.some((i) => !i)) return error(404, "not_found", "Invalid instance id");
    const volumeIds: string[] = body.volume_ids ?? [];
    const permanently = body.delete_permanently === true;
    if (body.action === "delete") {
      // The volumes a delete names must be the instance's own.
      const owned = new Set(
        [...this.volumes.values()].filter((v) => ids.includes(v.instance_id ?? "")).map((v) => v.id),
      );
      const stray = volumeIds.find((v) => !owned.has(v));
      if (stray) return error(400, "invalid_request", `Volume ${stray} is not attached to the instance`);
    }
    for (const i of found as VerdaInstance[]) {
      this.advance(i);
      if ((body.action === "delete" || body.action === "shutdown") && i.status === "running" && this.actionMs > 0) {
        i.pending ??= { action: body.action, at: this.now() + this.actionMs, volumeIds, permanently };
        continue;
      }
      if (body.action === "delete") {
        if (i.status === "running") i.endedAt ??= this.now();
        i.goneAt = this.now();
        i.deleted = true;
        this.releaseVolumes(i.id, volumeIds, permanently);
      } else if (body.action === "shutdown") {
        if (i.status === "provisioning" || i.status === "ordered") {
          return error(400, "forbidden_action", "Can't shutdown a provisioning instance");
        }
        i.status = "offline";
        i.endedAt = this.now();
      } else if (body.action === "start") {
        i.status = "running";
        i.runningAt = this.now();
        i.endedAt = null;
      } else {
        return error(400, "invalid_request", `Invalid action ${body.action}`);
      }
    }
    const results = ids.map((instanceId) => ({ action: body.action, instanceId, status: "success" }));
    return { status: 202, body: results };
  }

  private createVolume(body: any): FakeAnswer {
    if (!["NVMe", "HDD"].includes(body?.type))
      return error(400, "invalid_request", `Invalid volume type ${body?.type}`);
    if (!Number.isInteger(body?.size) || body.size < 1) return error(400, "invalid_request", "Invalid volume size");
    if (!body?.name) return error(400, "invalid_request", "name is required");
    const location = body.location_code ?? "FIN-03";
    if (!(location in this.availability)) return error(400, "invalid_request", `Invalid location ${location}`);
    const id = randomUUID();
    this.volumes.set(id, {
      id,
      status: "detached",
      name: body.name,
      size: body.size,
      type: body.type,
      is_os_volume: false,
      created_at: new Date(this.now()).toISOString(),
      target: null,
      location,
      instance_id: null,
      ssh_key_ids: [],
    });
    return { status: 202, text: id };
  }

  private volumeAction(body: any): FakeAnswer {
    const ids: string[] = Array.isArray(body?.id) ? body.id : [body?.id];
    const found = ids.map((id) => this.volumes.get(id));
    if (found.some((v) => !v)) return error(404, "not_found", "Invalid volume id");
    if (body.action !== "delete") return error(400, "invalid_request", `Unsupported action ${body.action}`);
    for (const v of found as VerdaVolume[]) {
      const on = v.instance_id ? this.instances.get(v.instance_id) : undefined;
      if (on && !on.deleted && on.status !== "offline") {
        return error(400, "forbidden_action", "Can't delete a volume attached to a running instance");
      }
    }
    for (const v of found as VerdaVolume[]) {
      this.volumes.delete(v.id);
      if (!body.is_permanent) this.trash.set(v.id, { ...v, status: "deleted", instance_id: null });
    }
    return { status: 202, text: "" };
  }

  /**
   * An instance's delete: the volumes named in `volume_ids` go with it (for good with `delete_permanently`, else to the
   * trash); the others, its OS volume included, are detached and kept.
   */
  private releaseVolumes(instanceId: string, deleteIds: string[], permanently: boolean) {
    for (const v of [...this.volumes.values()]) {
      if (v.instance_id !== instanceId) continue;
      if (deleteIds.includes(v.id)) {
        this.volumes.delete(v.id);
        if (!permanently) this.trash.set(v.id, { ...v, status: "deleted", instance_id: null });
      } else {
        v.instance_id = null;
        v.status = "detached";
      }
    }
  }

  private advance(i: VerdaInstance) {
    if (i.pending && this.now() >= i.pending.at) {
      if (i.pending.action === "delete") {
        i.deleted = true;
        i.goneAt = i.pending.at;
        this.releaseVolumes(i.id, i.pending.volumeIds, i.pending.permanently);
      } else i.status = "offline";
      i.endedAt = i.pending.at;
      i.pending = undefined;
    }
    if (i.status !== "ordered" && i.status !== "provisioning") return;
    const age = this.now() - i.createdAt;
    if (age >= this.provisionMs) {
      i.status = "running";
      i.runningAt = i.createdAt + this.provisionMs;
    } else if (age >= this.provisionMs / 3) {
      i.status = "provisioning";
    }
  }

  private view(i: VerdaInstance) {
    this.advance(i);
    const type = types.find((t) => t.instance_type === i.type)!;
    return {
      id: i.id,
      instance_type: i.type,
      image: i.image,
      price_per_hour: i.pricePerHour,
      hostname: i.hostname,
      description: i.hostname,
      ip: i.status === "running" ? fakeIp(100 + i.n) : null,
      status: i.status,
      created_at: new Date(i.createdAt).toISOString(),
      ssh_key_ids: [],
      cpu: type.cpu,
      gpu: type.gpu,
      memory: type.memory,
      gpu_memory: type.gpu_memory,
      storage: type.storage,
      os_volume_id: i.osVolumeId,
      startup_script_id: null,
      location: i.location,
      is_spot: false,
      contract: "PAY_AS_YOU_GO" as const,
      pricing: i.pricing,
      volume_ids: [...this.volumes.values()].filter((v) => v.instance_id === i.id).map((v) => v.id),
    };
  }
}

/**
 * Verda's instance types, in its own shapes (prices as decimal strings in USD, as its API answers them). Dynamic prices
 * move with demand; here they stand above the fixed price, as they may.
 */
const types = [
  {
    id: "c01dd00d-0000-4000-8000-000000000001",
    instance_type: "1H100.80S.30V",
    price_per_hour: "2.19",
    spot_price: "0.99",
    dynamic_price: "2.59",
    max_dynamic_price: "3.29",
    model: "H100",
    name: "H100 SXM5 80GB",
    display_name: "1x H100 SXM5 80GB",
    description: "Dedicated Hardware Instance",
    cpu: { description: "30 CPU", number_of_cores: 30 },
    gpu: { description: "1x H100 SXM5 80GB", number_of_gpus: 1 },
    memory: { description: "120GB RAM", size_in_gigabytes: 120 },
    gpu_memory: { description: "80GB GPU RAM", size_in_gigabytes: 80 },
    storage: { description: "dynamic" },
    best_for: ["Training", "Inference"],
    p2p: "",
    manufacturer: "NVIDIA",
    supported_os: ["ubuntu-22.04-cuda-12.4-docker", "ubuntu-24.04-cuda-12.8-open-docker", "ubuntu-24.04"],
  },
  {
    id: "c01dd00d-0000-4000-8000-000000000002",
    instance_type: "1A100.22V",
    price_per_hour: "1.29",
    spot_price: "0.59",
    dynamic_price: "1.49",
    max_dynamic_price: "1.99",
    model: "A100",
    name: "A100 SXM4 80GB",
    display_name: "1x A100 SXM4 80GB",
    description: "Dedicated Hardware Instance",
    cpu: { description: "22 CPU", number_of_cores: 22 },
    gpu: { description: "1x A100 SXM4 80GB", number_of_gpus: 1 },
    memory: { description: "120GB RAM", size_in_gigabytes: 120 },
    gpu_memory: { description: "80GB GPU RAM", size_in_gigabytes: 80 },
    storage: { description: "dynamic" },
    best_for: ["Training", "Inference"],
    p2p: "",
    manufacturer: "NVIDIA",
    supported_os: ["ubuntu-22.04-cuda-12.4-docker", "ubuntu-24.04-cuda-12.8-open-docker", "ubuntu-24.04"],
  },
];

/** A type as `GET /instance-types` answers it in a currency (USD as listed; EUR converted). */
function priced(t: (typeof types)[number], currency: "usd" | "eur") {
  const convert = (usd: string) => (currency === "usd" ? usd : (Number(usd) * EUR_PER_USD).toFixed(2));
  return {
    ...t,
    price_per_hour: convert(t.price_per_hour),
    spot_price: convert(t.spot_price),
    dynamic_price: convert(t.dynamic_price),
    max_dynamic_price: convert(t.max_dynamic_price),
    currency,
  };
}

/** Verda's OS images (GET /images): launched by `image_type`. */
const images = [
  ["ubuntu-22.04-cuda-12.4-docker", "Ubuntu 22.04 + CUDA 12.4 + Docker", false],
  ["ubuntu-24.04-cuda-12.8-open-docker", "Ubuntu 24.04 + CUDA 12.8 Open + Docker", true],
  ["ubuntu-24.04", "Ubuntu 24.04", false],
].map(([image_type, name, is_default], n) => ({
  id: `0a0b0c0d-0000-4000-8000-00000000000${n}`,
  image_type: image_type as string,
  name: name as string,
  is_default: is_default as boolean,
  details: [name],
  category: "ubuntu",
}));
