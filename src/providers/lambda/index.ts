import { z } from "zod";
import type { CircuitBreaker } from "../upstream/breaker.js";
import { gpuFormFactorOf, gpuModelOf } from "../upstream/gpus.js";
import { keyName, parseAnswer, UpstreamHttp } from "../upstream/http.js";
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
 * Lambda Cloud (`{data}` / `{error:{code,message,suggestion}}`, bearer key). It has no stop, launches about one
 * instance per 12 s per account (429 with Retry-After past that), and its capacity list can say yes while the launch
 * says `instance-operations/launch/insufficient-capacity`. It has no idempotency key: the launch's `name` is the tag.
 */
export class LambdaCloud implements UpstreamCloud {
  readonly name = "lambda" as const;
  readonly canStop = false;
  /** To be re-checked against docs.lambda.ai/public-cloud/billing (issue 25). */
  readonly billing = {
    startsAt: "running",
    endsAt: "call",
    whileStopped: "cannot-stop",
    incrementSeconds: 60,
    minimumSeconds: 0,
    source:
      "docs.lambda.ai/public-cloud/billing (read 2026-12-04): per-hour prices billed in one-minute increments, from launch once the instance passes health checks until terminated",
  } as const;
  private http: UpstreamHttp;
  private sshKeyNames = new Map<string, string>();

  constructor(options: { apiKey: string; baseUrl?: string; breaker: CircuitBreaker; timeoutMs?: number }) {
    this.http = new UpstreamHttp({
      provider: "lambda",
      baseUrl: options.baseUrl ?? LAMBDA_URL,
      breaker: options.breaker,
      timeoutMs: options.timeoutMs,
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

  async launch(request: LaunchRequest): Promise<string> {
    const keyNames = await this.ensureSshKeys(request.sshPublicKeys);
    const answer = await this.http.call("POST", "/instance-operations/launch", {
      body: {
        region_name: request.upstreamRegion,
        instance_type_name: request.upstreamType,
        ssh_key_names: keyNames,
        file_system_names: [],
        quantity: 1,
        name: request.name,
        image: { family: request.image },
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

  /** Lambda launches with key names: each customer key is added once (named by its fingerprint) and remembered. */
  private async ensureSshKeys(publicKeys: string[]): Promise<string[]> {
    const names: string[] = [];
    for (const key of publicKeys) {
      let name = this.sshKeyNames.get(key);
      if (!name) {
        name = keyName(key);
        try {
          await this.http.call("POST", "/ssh-keys", { body: { name, public_key: key }, idempotent: true });
        } catch (error) {
          // Already added (by an earlier run of this server): the name is what the launch needs.
          if (!(error instanceof Error && /already|exist/i.test(error.message))) throw error;
        }
        this.sshKeyNames.set(key, name);
      }
      names.push(name);
    }
    return names;
  }
}
