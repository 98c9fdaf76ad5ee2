import { z } from "zod";
import type { CircuitBreaker } from "../upstream/breaker.js";
import { UpstreamError } from "../upstream/errors.js";
import { gpuFormFactorOf, gpuModelOf, usdPerHourToMicros } from "../upstream/gpus.js";
import { parseAnswer, UpstreamHttp } from "../upstream/http.js";
import type { LaunchRequest, UpstreamCloud, UpstreamInstance, UpstreamType } from "../upstream/types.js";

export const RUNPOD_URL = "https://rest.runpod.io/v1";
export const RUNPOD_GRAPHQL_URL = "https://api.runpod.io/graphql";

const errorBody = z.object({ error: z.string() }).or(z.object({ message: z.string() }));
const pod = z.object({
  id: z.string(),
  name: z.string().nullish(),
  desiredStatus: z.string(),
  publicIp: z.string().nullish(),
  /** Internal port → public port, e.g. {"22": 43112}: SSH is reachable only once 22 has a mapping. */
  portMappings: z.record(z.string(), z.number()).nullish(),
  lastStartedAt: z.string().nullish(),
});
const gpuTypesBody = z.object({
  data: z.object({
    gpuTypes: z.array(
      z.object({
        id: z.string(),
        displayName: z.string(),
        memoryInGb: z.number(),
        securePrice: z.number().nullish(),
        lowestPrice: z.object({ stockStatus: z.string().nullish() }).nullish(),
      }),
    ),
  }),
});

/** RunPod's desiredStatus values (runpod-python, SkyPilot runpod/utils.py). */
const states: Record<string, UpstreamInstance["state"]> = {
  CREATED: "pending",
  RUNNING: "running",
  RESTARTING: "pending",
  PAUSED: "stopped",
  EXITED: "stopped",
  TERMINATED: "gone",
};

const NO_CAPACITY = /no longer any instances available|no instances available|not enough (free )?gpus|capacity/i;

/**
 * RunPod (REST v1 for pods, GraphQL for GPU types and stock; bearer key). SSH is the public mapping of port 22, which
 * changes when a pod restarts; `runtime`/the mapping is missing while the image is pulled. A stop wipes the
 * container disk (only a volume survives).
 */
export class RunPodCloud implements UpstreamCloud {
  readonly name = "runpod" as const;
  readonly canStop = true;
  /** To be re-checked against runpod/docs (issue 25). */
  readonly billing = {
    startsAt: "launch",
    endsAt: "gone",
    whileStopped: "storage",
    incrementSeconds: 1,
    minimumSeconds: 0,
    source: "runpod/docs (read 2026-12-04): a stopped pod keeps billing its volume",
  } as const;
  readonly stopNote = "stopping a RunPod pod wipes its container disk; only its volume survives";
  private http: UpstreamHttp;
  private graphql: UpstreamHttp;

  constructor(
    private options: {
      apiKey: string;
      baseUrl?: string;
      graphqlUrl?: string;
      dataCenters: string[];
      breaker: CircuitBreaker;
      timeoutMs?: number;
    },
  ) {
    const common = {
      provider: "runpod" as const,
      breaker: options.breaker,
      timeoutMs: options.timeoutMs,
      headers: async () => ({ authorization: `Bearer ${options.apiKey}` }),
      classify: (status: number, body: unknown) => {
        const parsed = errorBody.safeParse(body);
        const text = parsed.success
          ? "error" in parsed.data
            ? parsed.data.error
            : parsed.data.message
          : `HTTP ${status}`;
        const message = `HTTP ${status}: ${text}`;
        if (status === 401 || status === 403) return { kind: "auth" as const, message };
        if (status === 404) return { kind: "gone" as const, message };
        if (NO_CAPACITY.test(text)) return { kind: "capacity" as const, message };
        return { kind: "rejected" as const, message };
      },
    };
    this.http = new UpstreamHttp({ ...common, baseUrl: options.baseUrl ?? RUNPOD_URL });
    this.graphql = new UpstreamHttp({ ...common, baseUrl: options.graphqlUrl ?? RUNPOD_GRAPHQL_URL });
  }

  /** GPU types with their secure-cloud price and stock, offered in each data center the operator sells from. */
  async types(): Promise<UpstreamType[]> {
    const answer = await this.graphql.call("POST", "", {
      idempotent: true,
      body: {
        query:
          "query { gpuTypes { id displayName memoryInGb securePrice lowestPrice(input: {gpuCount: 1}) { stockStatus } } }",
      },
    });
    // GraphQL reports errors with HTTP 200 in `errors[]`: that is a failed call, not an empty list.
    const errors = (answer as { errors?: { message?: string }[] } | null)?.errors;
    if (errors?.length) throw new UpstreamError("runpod", "malformed", `graphql: ${errors[0]?.message ?? "error"}`);
    const body = parseAnswer("runpod", gpuTypesBody, answer, "gpuTypes");
    const out: UpstreamType[] = [];
    for (const t of body.data.gpuTypes) {
      const gpuModel = gpuModelOf(t.displayName) ?? gpuModelOf(t.id);
      if (!gpuModel || t.securePrice == null) continue;
      const stock = t.lowestPrice?.stockStatus ?? null;
      for (const dc of this.options.dataCenters) {
        out.push({
          upstreamType: t.id,
          upstreamRegion: dc,
          gpuModel,
          gpuCount: 1,
          gpuMemoryGb: t.memoryInGb,
          formFactor: gpuFormFactorOf(`${t.displayName} ${t.id}`),
          vcpus: 0,
          ramGb: 0,
          diskGb: 0,
          pricePerHourMicros: usdPerHourToMicros(t.securePrice),
          available: stock !== null && stock !== "None",
        });
      }
    }
    return out;
  }

  async launch(request: LaunchRequest): Promise<string> {
    const answer = await this.http.call("POST", "/pods", {
      body: {
        name: request.name,
        imageName: request.image,
        gpuTypeIds: [request.upstreamType],
        gpuCount: 1,
        dataCenterIds: [request.upstreamRegion],
        cloudType: "SECURE",
        ports: ["22/tcp"],
        // RunPod's images install this as root's authorized_keys.
        env: { PUBLIC_KEY: request.sshPublicKeys.join("\n") },
      },
    });
    return parseAnswer("runpod", pod, answer, "create pod").id;
  }

  async list(): Promise<UpstreamInstance[]> {
    const pods = parseAnswer("runpod", z.array(pod), await this.http.call("GET", "/pods"), "pods");
    return pods.map((p) => {
      const sshPort = p.portMappings?.["22"] ?? null;
      const reachable = Boolean(p.publicIp && sshPort);
      const state = states[p.desiredStatus] ?? "unknown";
      return {
        id: p.id,
        name: p.name ?? "",
        status: p.desiredStatus,
        // RUNNING without a public port 22 yet (the image is still pulled) is not reachable, so not running.
        state: state === "running" && !reachable ? "pending" : state,
        ipAddress: reachable ? p.publicIp! : null,
        sshPort: reachable ? sshPort : null,
        sshUser: "root",
        runningSince: p.lastStartedAt ? new Date(p.lastStartedAt) : null,
      };
    });
  }

  async terminate(ids: string[]): Promise<void> {
    for (const id of ids) await this.http.call("DELETE", `/pods/${encodeURIComponent(id)}`);
  }

  async stop(id: string): Promise<void> {
    await this.http.call("POST", `/pods/${encodeURIComponent(id)}/stop`, { idempotent: true });
  }

  async start(id: string): Promise<void> {
    await this.http.call("POST", `/pods/${encodeURIComponent(id)}/start`, { idempotent: true });
  }
}
