import { z } from "zod";
import type { CircuitBreaker } from "../upstream/breaker.js";
import { UpstreamError } from "../upstream/errors.js";
import { gpuFormFactorOf, gpuModelOf } from "../upstream/gpus.js";
import { keyName, Pacer, pacerFor, parseAnswer, UpstreamHttp } from "../upstream/http.js";
import type { LaunchRequest, UpstreamCloud, UpstreamInstance, UpstreamType } from "../upstream/types.js";

export const LAMBDA_URL = "https://cloud.lambda.ai/api/v1";

const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), suggestion: z.string().nullish() }),
});
const typesBody = z.object({
  data: z.record(
    z.string(),
    z.object({
      instance_type: z.object({
        name: z.string(),
        gpu_description: z.string(),
        price_cents_per_hour: z.number().int().nonnegative(),
        specs: z.object({ vcpus: z.number(), memory_gib: z.number(), storage_gib: z.number(), gpus: z.number() }),
      }),
      regions_with_capacity_available: z.array(z.object({ name: z.string() })),
    }),
  ),
});
const instancesBody = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullish(),
      ip: z.string().nullish(),
      status: z.string(),
    }),
  ),
});
const launchBody = z.object({ data: z.object({ instance_ids: z.array(z.string()).min(1) }) });
const sshKeysBody = z.object({ data: z.array(z.object({ id: z.string(), name: z.string(), public_key: z.string() })) });

/**
 * Lambda's limits per account: about one request per second, one launch per 12 s (SkyPilot lambda_utils.py, Lambda's
 * cloud-api docs page it cites). Past them Cloudflare answers 429 in plain text with Retry-After.
 */
export const LAMBDA_LIMITS = { requestIntervalMs: 1_000, launchIntervalMs: 12_000 } as const;

/** Lambda's statuses (SkyPilot lambda_utils, dstack lambdalabs compute). */
const states: Record<string, UpstreamInstance["state"]> = {
  booting: "pending",
  active: "running",
  unhealthy: "running",
  terminating: "gone",
  terminated: "gone",
  preempted: "gone",
};

/**
 * Lambda Cloud, API 1.10.0 (`{data}` / `{error:{code,message,suggestion}}`, bearer key). It has no stop; a launch
 * takes exactly one SSH key name; the account allows about one request per second and one launch per 12 s, which the
 * adapter keeps to itself (a 429 that still comes, from another replica, is waited out by its Retry-After); its
 * capacity list can say yes while the launch says `instance-operations/launch/insufficient-capacity`. It has no
 * idempotency key: the launch's `name` is the tag.
 */
export class LambdaCloud implements UpstreamCloud {
  readonly name = "lambda" as const;
  readonly canStop = false;
  /**
   * docs.lambda.ai/public-cloud/billing (read 2026-12-05): On-Demand instances are priced per hour and billed in
   * one-minute increments; billing begins once the launched instance passes health checks (reported `active`) and
   * ends the moment it is terminated (the terminate call), whether used or not. No stop, no minimum stated.
   */
  readonly billing = {
    startsAt: "running",
    endsAt: "call",
    whileStopped: "cannot-stop",
    incrementSeconds: 60,
    minimumSeconds: 0,
    source:
      "docs.lambda.ai/public-cloud/billing (read 2026-12-05): hourly prices billed in one-minute increments, from the moment the launched instance passes health checks to the moment it is terminated",
  } as const;
  private http: UpstreamHttp;

  constructor(options: {
    apiKey: string;
    baseUrl?: string;
    breaker: CircuitBreaker;
    timeoutMs?: number;
    /** Lambda's limits (LAMBDA_LIMITS by default); 0 turns a pacing off. */
    requestIntervalMs?: number;
    launchIntervalMs?: number;
  }) {
    const baseUrl = options.baseUrl ?? LAMBDA_URL;
    const requests = pacerFor("lambda", baseUrl, options.apiKey, "requests");
    const launches = pacerFor("lambda", baseUrl, options.apiKey, "launches");
    const requestIntervalMs = options.requestIntervalMs ?? LAMBDA_LIMITS.requestIntervalMs;
    const launchIntervalMs = options.launchIntervalMs ?? LAMBDA_LIMITS.launchIntervalMs;
    this.http = new UpstreamHttp({
      provider: "lambda",
      baseUrl,
      breaker: options.breaker,
      timeoutMs: options.timeoutMs,
      pace: async (method, path) => {
        if (method === "POST" && path === "/instance-operations/launch") {
          await Pacer.together([launches, launchIntervalMs], [requests, requestIntervalMs]);
        } else await requests.wait(requestIntervalMs);
      },
      headers: async () => ({ authorization: `Bearer ${options.apiKey}` }),
      classify: (status, body) => {
        const parsed = errorBody.safeParse(body);
        const code = parsed.success ? parsed.data.error.code : `http-${status}`;
        const message = parsed.success ? `${code}: ${parsed.data.error.message}` : `HTTP ${status}`;
        if (code === "instance-operations/launch/insufficient-capacity") return { kind: "capacity", message };
        if (code === "global/invalid-api-key" || status === 401 || status === 403) return { kind: "auth", message };
        if (code === "global/object-does-not-exist" || status === 404) return { kind: "gone", message };
        return { kind: "rejected", message };
      },
    });
  }

  async types(): Promise<UpstreamType[]> {
    const body = parseAnswer("lambda", typesBody, await this.http.call("GET", "/instance-types"), "instance-types");
    const out: UpstreamType[] = [];
    for (const entry of Object.values(body.data)) {
      const t = entry.instance_type;
      const gpuModel = gpuModelOf(t.gpu_description);
      if (!gpuModel || t.specs.gpus < 1) continue;
      const memory = /(\d+)\s*GB/i.exec(t.gpu_description);
      for (const region of entry.regions_with_capacity_available) {
        out.push({
          upstreamType: t.name,
          upstreamRegion: region.name,
          gpuModel,
          gpuCount: t.specs.gpus,
          gpuMemoryGb: memory ? Number(memory[1]) : 0,
          formFactor: gpuFormFactorOf(t.gpu_description),
          vcpus: t.specs.vcpus,
          ramGb: t.specs.memory_gib,
          diskGb: t.specs.storage_gib,
          pricePerHourMicros: BigInt(t.price_cents_per_hour) * 10_000n,
          available: true,
        });
      }
    }
    return out;
  }

  /**
   * Lambda takes exactly one SSH key name per launch: the customer's first key is registered and named; the others
   * are added by cloud-init (`user_data`, which the launch accepts) to the same user's authorized keys.
   */
  async launch(request: LaunchRequest): Promise<string> {
    const [first, ...others] = request.sshPublicKeys.map((k) => k.trim()).filter(Boolean);
    if (!first) {
      throw new UpstreamError("lambda", "rejected", "a Lambda launch takes exactly one SSH key; the instance has none");
    }
    const keyName = await this.ensureSshKey(first);
    const answer = await this.http.call("POST", "/instance-operations/launch", {
      body: {
        region_name: request.upstreamRegion,
        instance_type_name: request.upstreamType,
        ssh_key_names: [keyName],
        file_system_names: [],
        name: request.name,
        image: { family: request.image },
        ...(others.length ? { user_data: cloudConfigKeys(others) } : {}),
      },
    });
    return parseAnswer("lambda", launchBody, answer, "launch").data.instance_ids[0];
  }

  async list(): Promise<UpstreamInstance[]> {
    const body = parseAnswer("lambda", instancesBody, await this.http.call("GET", "/instances"), "instances");
    return body.data.map((i) => ({
      id: i.id,
      name: i.name ?? "",
      status: i.status,
      state: states[i.status] ?? "unknown",
      // The IP is null while booting; Lambda's images log in as ubuntu on port 22.
      ipAddress: i.ip ?? null,
      sshPort: i.ip ? 22 : null,
      sshUser: "ubuntu",
    }));
  }

  async terminate(ids: string[]): Promise<void> {
    if (ids.length)
      await this.http.call("POST", "/instance-operations/terminate", { body: { instance_ids: ids }, idempotent: true });
  }

  async stop(): Promise<void> {
    throw new Error("Lambda has no stop");
  }

  async start(): Promise<void> {
    throw new Error("Lambda has no stop, so nothing to start");
  }

  /**
   * The name of this public key in the account, registering it if it is not there. Read from the account each time
   * (never remembered), so a restart, a second replica or a key added by hand changes nothing. A name taken meanwhile
   * (Lambda: 400 `global/invalid-parameters` "Key name must be unique", another replica registering the same key) is
   * read back; a name held by another key is refused rather than trusted.
   */
  private async ensureSshKey(publicKey: string): Promise<string> {
    const same = (k: { public_key: string }) => k.public_key.trim() === publicKey;
    const existing = (await this.sshKeys()).find(same);
    if (existing) return existing.name;
    const name = keyName(publicKey);
    try {
      await this.http.call("POST", "/ssh-keys", { body: { name, public_key: publicKey } });
      return name;
    } catch (error) {
      if (!(error instanceof UpstreamError && error.kind === "rejected")) throw error;
      const named = (await this.sshKeys()).find((k) => k.name === name);
      if (named && same(named)) return name;
      if (named) {
        throw new UpstreamError("lambda", "rejected", `SSH key name ${name} is held by another key in the account`);
      }
      throw error;
    }
  }

  private async sshKeys() {
    return parseAnswer("lambda", sshKeysBody, await this.http.call("GET", "/ssh-keys"), "ssh-keys").data;
  }
}

/** Cloud-init user data adding keys to the default user's authorized keys (each key quoted as a YAML string). */
export function cloudConfigKeys(keys: string[]): string {
  return ["#cloud-config", "ssh_authorized_keys:", ...keys.map((k) => `  - ${JSON.stringify(k)}`), ""].join("\n");
}
