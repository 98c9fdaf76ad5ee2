import { z } from "zod";
import type { CircuitBreaker } from "../upstream/breaker.js";
import { UpstreamError } from "../upstream/errors.js";
import { gpuFormFactorOf, gpuModelOf, usdPerHourToMicros } from "../upstream/gpus.js";
import { parseAnswer, UpstreamHttp } from "../upstream/http.js";
import type { LaunchRequest, UpstreamCloud, UpstreamInstance, UpstreamType } from "../upstream/types.js";

/** RunPod's REST API v2 server; paths carry the `/v2` prefix as its OpenAPI document writes them. */
export const RUNPOD_URL = "https://api.runpod.io";

export type RunPodCloudType = "SECURE" | "COMMUNITY";

/** RFC 9457 problem details, as v2 answers every error. */
const problem = z.object({
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  errors: z.array(z.string()).nullish(),
});
const sshEndpoint = z.object({ host: z.string(), port: z.number() });
/** What gpuplane reads of a v2 Pod; the rest of the document's fields are not needed. */
const pod = z.object({
  id: z.string(),
  name: z.string().nullish(),
  status: z.string(),
  ssh: z.object({ direct: sshEndpoint.nullish() }).nullish(),
  startedAt: z.string().nullish(),
  /** The ports asked for at create ("8888/http", "22/tcp"). */
  ports: z.array(z.string()).nullish(),
  /** Where each is published once running: a tcp port's public mapping on the host's IP. */
  runtime: z
    .object({
      ports: z
        .array(
          z.object({
            private: z.number().nullish(),
            public: z.number().nullish(),
            type: z.string().nullish(),
            ip: z.string().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});
/** GET /v2/pods: each pod is read on its own, so one pod of a shape we do not know never hides the others. */
const podsBody = z.object({ pods: z.array(z.unknown()) });
const catalogBody = z.object({
  gpus: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      memory: z.number(),
      secure: z.boolean(),
      community: z.boolean(),
      price: z.object({ secure: z.number(), community: z.number() }),
      dataCenters: z.array(z.object({ id: z.string(), availability: z.string() })).nullish(),
    }),
  ),
});

/**
 * The container disk every gpuplane pod gets (v2's `disk`, sent explicitly: v1's default was 50 GB, v2's document
 * gives none). RunPod charges it while the pod runs, so it is part of the pod's upstream price.
 */
export const RUNPOD_CONTAINER_DISK_GB = 50;
/** RunPod's container disk price while running: $0.10 per GB-month (pods/pricing.mdx), a month taken as 30 days. */
const CONTAINER_DISK_MICROS_PER_GB_MONTH = 100_000n;
/** What the container disk adds to a running pod's hourly price, rounded up (never below what RunPod charges). */
export const RUNPOD_DISK_MICROS_PER_HOUR =
  (BigInt(RUNPOD_CONTAINER_DISK_GB) * CONTAINER_DISK_MICROS_PER_GB_MONTH + 719n) / 720n;

/** How RunPod words "no stock for this GPU here" (runpod-python, SkyPilot runpod/utils.py). */
const NO_CAPACITY = /no longer any instances available|no instances available|not enough (free )?gpus|capacity/i;

/** v2's PodStatus (api-reference-v2/openapi.json). RUNNING counts only once SSH has a direct endpoint. */
const states: Record<string, UpstreamInstance["state"]> = {
  PROVISIONING: "pending",
  STARTING: "pending",
  RUNNING: "running",
  EXITED: "stopped",
  ERROR: "failed",
  TERMINATED: "gone",
};

/**
 * RunPod, REST API v2 (`https://api.runpod.io/v2`, bearer key; v1 was retired on 2026-11-15 and GraphQL goes in
 * early 2027, so neither is used). Stock is read per data center and per cloud type (the one the launch asks for) from
 * `GET /v2/catalog/gpus?include=AVAILABILITY&product=POD`, so an offer is available only where the launch can be
 * placed. SSH is the pod's `ssh.direct` endpoint (the host's IP and the public port mapped to 22), which exists only
 * once the image is pulled and changes on every start. A stop wipes the container disk (only a volume survives).
 * Errors are RFC 9457 problems; a create that cannot be placed is a 400 with only a human-readable `detail`.
 */
export class RunPodCloud implements UpstreamCloud {
  readonly name = "runpod" as const;
  readonly canStop = true;
  /** Any image, with env, a start command (`args`) and exposed ports (`ports`: "8888/http", "6006/tcp"). */
  readonly containerOptions = true;
  /**
   * RunPod's docs (runpod/docs `pods/pricing.mdx`, `accounts-billing/billing.mdx`, read at commit a900806e): "Pods are
   * billed by the second for compute and storage". Storage: the container disk costs $0.10/GB/month while the pod
   * runs and nothing while it is stopped (it is wiped); a volume disk costs $0.10/GB/month running and $0.20/GB/month
   * stopped. gpuplane's pods have a container disk of RUNPOD_CONTAINER_DISK_GB and no volume (no `mounts`), so a
   * stopped pod costs nothing, and a running one its GPU price plus its container disk, which is what `types()`
   * prices it at. The docs do not say that the image pull is free, so the charge is taken to run from the create
   * call. No minimum.
   */
  readonly billing = {
    startsAt: "launch",
    endsAt: "call",
    whileStopped: "none",
    incrementSeconds: 1,
    minimumSeconds: 0,
    source:
      "runpod/docs pods/pricing.mdx and accounts-billing/billing.mdx @ a900806e (2026-08-20): billed by the second for compute and storage; the container disk ($0.10/GB/month) only while running, a volume disk also while stopped ($0.20/GB/month) and gpuplane's pods have none, so a stopped pod costs nothing; the pull is not said to be free, so from the create call",
  } as const;
  readonly stopNote =
    "stopping a RunPod pod wipes its container disk (gpuplane's pods have no volume disk, so RunPod charges nothing while it is stopped)";
  private http: UpstreamHttp;
  private cloudType: RunPodCloudType;

  constructor(
    private options: {
      apiKey: string;
      baseUrl?: string;
      dataCenters: string[];
      /** Secure or Community Cloud: stock, price and launch all follow it (default Secure). */
      cloudType?: RunPodCloudType;
      breaker: CircuitBreaker;
      timeoutMs?: number;
    },
  ) {
    this.cloudType = options.cloudType ?? "SECURE";
    this.http = new UpstreamHttp({
      provider: "runpod",
      baseUrl: options.baseUrl ?? RUNPOD_URL,
      breaker: options.breaker,
      timeoutMs: options.timeoutMs,
      headers: async () => ({ authorization: `Bearer ${options.apiKey}` }),
      classify,
    });
  }

  /** GPU types with the price of this cloud type, available in a data center only where RunPod reports stock there. */
  async types(): Promise<UpstreamType[]> {
    const query = `include=AVAILABILITY&product=POD&cloud=${this.cloudType}&count=1`;
    const answer = await this.http.call("GET", `/v2/catalog/gpus?${query}`);
    const body = parseAnswer("runpod", catalogBody, answer, "catalog/gpus");
    const secure = this.cloudType === "SECURE";
    const out: UpstreamType[] = [];
    for (const t of body.gpus) {
      const gpuModel = gpuModelOf(t.name) ?? gpuModelOf(t.id);
      if (!gpuModel || !(secure ? t.secure : t.community)) continue;
      const stock = new Map((t.dataCenters ?? []).map((dc) => [dc.id, dc.availability]));
      for (const dc of this.options.dataCenters) {
        const level = stock.get(dc) ?? "NONE";
        out.push({
          upstreamType: t.id,
          upstreamRegion: dc,
          gpuModel,
          gpuCount: 1,
          gpuMemoryGb: t.memory,
          formFactor: gpuFormFactorOf(`${t.name} ${t.id}`),
          vcpus: 0,
          ramGb: 0,
          diskGb: 0,
          // The GPU's price and the container disk RunPod bills beside it while the pod runs.
          pricePerHourMicros:
            usdPerHourToMicros(secure ? t.price.secure : t.price.community) + RUNPOD_DISK_MICROS_PER_HOUR,
          available: level !== "NONE",
        });
      }
    }
    return out;
  }

  async launch(request: LaunchRequest): Promise<string> {
    const answer = await this.http
      .call("POST", "/v2/pods", {
        body: {
          name: request.name,
          image: request.image,
          gpu: { id: request.upstreamType, count: 1 },
          cloud: this.cloudType,
          dataCenterIds: [request.upstreamRegion],
          // ssh.direct needs 22/tcp; PUBLIC_KEY set here wins over the account's keys that startSsh would inject, so the
          // customer's pod trusts the customer's keys only.
          // The customer's own ports beside it: RunPod proxies an http one, maps a tcp one to a public port.
          ports: ["22/tcp", ...(request.ports ?? []).map((p) => `${p.port}/${p.protocol}`)],
          // The container disk RunPod bills while running (in the upstream price); no volume, so a stop costs nothing.
          // A customer's smaller disk is taken as asked (never more: the price covers this one).
          disk: Math.min(request.diskGb ?? RUNPOD_CONTAINER_DISK_GB, RUNPOD_CONTAINER_DISK_GB),
          startSsh: true,
          // The customer's env (reserved names refused at create), then ours: PUBLIC_KEY always the customer's keys.
          env: { ...request.env, PUBLIC_KEY: request.sshPublicKeys.join("\n") },
          // v2 takes the start command as one string, run by the image's shell.
          ...(request.command?.length ? { args: request.command.map(shellQuote).join(" ") } : {}),
        },
      })
      .catch((error: unknown) => {
        throw placementError(error);
      });
    return parseAnswer("runpod", pod, answer, "create pod").id;
  }

  async list(): Promise<UpstreamInstance[]> {
    const body = parseAnswer("runpod", podsBody, await this.http.call("GET", "/v2/pods"), "pods");
    return body.pods.flatMap((raw) => {
      const parsed = pod.safeParse(raw);
      if (!parsed.success) {
        // A pod we cannot read is listed as unknown (its last known state is kept, and read again next pass), never
        // dropped: dropped, it would read as gone.
        const id = (raw as { id?: unknown } | null)?.id;
        if (typeof id !== "string") return [];
        const status = (raw as { status?: unknown }).status;
        return [unknownPod(id, typeof status === "string" ? status : "unreadable")];
      }
      return [this.instanceOf(parsed.data)];
    });
  }

  /**
   * Terminates each pod. A 404 is taken as done only when a read of the pod says it is gone too: a pod that is still
   * there (an answer from the wrong place, a lagging replica of RunPod's) may still bill, so the delete stays pending
   * and is sent again.
   */
  async terminate(ids: string[]): Promise<void> {
    for (const id of ids) {
      const path = `/v2/pods/${encodeURIComponent(id)}`;
      try {
        await this.http.call("DELETE", path);
      } catch (error) {
        if (!(error instanceof UpstreamError && error.kind === "gone")) throw error;
        const still = await this.read(id);
        if (still && states[still.status] !== "gone") {
          throw new UpstreamError(
            "runpod",
            "transient",
            `DELETE ${path} answered 404 but the pod is still ${still.status}; the delete is sent again`,
            error.requestId,
            404,
          );
        }
      }
    }
  }

  async stop(id: string): Promise<void> {
    await this.action(id, "stop");
  }

  async start(id: string): Promise<void> {
    await this.action(id, "start");
  }

  private async action(id: string, action: "start" | "stop"): Promise<void> {
    await this.http.call("POST", `/v2/pods/${encodeURIComponent(id)}/action`, { body: { action }, idempotent: true });
  }

  /** The pod as RunPod reads it now, or null once it answers 404. */
  private async read(id: string): Promise<z.infer<typeof pod> | null> {
    try {
      return parseAnswer("runpod", pod, await this.http.call("GET", `/v2/pods/${encodeURIComponent(id)}`), "pod");
    } catch (error) {
      if (error instanceof UpstreamError && error.kind === "gone") return null;
      throw error;
    }
  }

  private instanceOf(p: z.infer<typeof pod>): UpstreamInstance {
    const direct = p.ssh?.direct ?? null;
    const state = states[p.status] ?? "unknown";
    // RUNNING before the image is pulled has no direct SSH endpoint yet: not reachable, so not running.
    const reachable = state === "running" && direct !== null;
    return {
      id: p.id,
      name: p.name ?? "",
      status: p.status,
      state: state === "running" && !reachable ? "pending" : state,
      ipAddress: reachable ? direct!.host : null,
      sshPort: reachable ? direct!.port : null,
      sshUser: "root",
      runningSince: reachable && p.startedAt ? new Date(p.startedAt) : null,
      ports: reachable ? podPorts(p, direct!.host) : [],
    };
  }
}

/**
 * createPod's table: a 400 is "could not be placed" or a broken rule, with no machine-readable code; only its detail
 * tells them apart, so a detail that speaks of capacity is capacity (the waitlist waits for it) and any other 400 is a
 * refusal (the next candidate is still tried). A 403 is a pool this account cannot use: skip it, not an auth failure.
 */
function placementError(error: unknown): unknown {
  if (!(error instanceof UpstreamError)) return error;
  const message = error.message.replace(/^runpod: /, "");
  if (error.httpStatus === 400 && NO_CAPACITY.test(message)) {
    return new UpstreamError("runpod", "capacity", message, error.requestId, 400);
  }
  if (error.httpStatus === 403) return new UpstreamError("runpod", "rejected", message, error.requestId, 403);
  return error;
}

/**
 * The pod's own ports: an http one through RunPod's HTTPS proxy (`https://<pod>-<port>.proxy.runpod.net`, docs
 * pods/configuration/expose-ports.mdx), a tcp one at its public mapping in `runtime.ports` (absent: not published).
 */
function podPorts(p: z.infer<typeof pod>, ip: string): NonNullable<UpstreamInstance["ports"]> {
  const out: NonNullable<UpstreamInstance["ports"]> = [];
  for (const spec of p.ports ?? []) {
    const [portText, protocol] = spec.split("/");
    const port = Number(portText);
    if (!Number.isInteger(port) || port === 22) continue;
    if (protocol === "http") {
      out.push({
        port,
        protocol,
        host: `${p.id}-${port}.proxy.runpod.net`,
        hostPort: 443,
        url: `https://${p.id}-${port}.proxy.runpod.net`,
      });
      continue;
    }
    const mapped = p.runtime?.ports?.find((m) => m.private === port && m.public);
    if (mapped) out.push({ port, protocol: "tcp", host: mapped.ip ?? ip, hostPort: mapped.public!, url: null });
  }
  return out;
}

const shellQuote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);

function unknownPod(id: string, status: string): UpstreamInstance {
  return { id, name: "", status, state: "unknown", ipAddress: null, sshPort: null, sshUser: "root" };
}

/**
 * v2's statuses, as createPod's description reads them: 400 is "cannot be placed" or a broken cross-field rule (try
 * the next candidate: a rule broken fails on every one, and the last detail says so), 402 no balance, 403 a pool the
 * account cannot use, 404 not found, 409 an action the pod's state refuses, 422 a body off the contract. A 404 that
 * is not a problem document (a retired path, a proxy) does not mean the pod is gone.
 */
function classify(status: number, body: unknown): { kind: UpstreamError["kind"]; message: string } {
  const parsed = problem.safeParse(body);
  const detail = parsed.success
    ? [parsed.data.detail, ...(parsed.data.errors ?? [])].filter(Boolean).join("; ")
    : `HTTP ${status} without a problem document`;
  const message = `HTTP ${status}: ${detail}`;
  if (status === 401 || status === 403) return { kind: "auth", message };
  if (status === 404 && parsed.success) return { kind: "gone", message };
  return { kind: "rejected", message };
}
