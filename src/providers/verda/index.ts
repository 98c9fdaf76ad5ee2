import { z } from "zod";
import type { CircuitBreaker } from "../upstream/breaker.js";
import { UpstreamError } from "../upstream/errors.js";
import { gpuFormFactorOf, gpuModelOf, usdPerHourToMicros } from "../upstream/gpus.js";
import { type CallOptions, keyName, parseAnswer, UpstreamHttp } from "../upstream/http.js";
import type {
  LaunchRequest,
  UpstreamCloud,
  UpstreamInstance,
  UpstreamType,
  UpstreamVolume,
  UpstreamVolumes,
} from "../upstream/types.js";

export const VERDA_URL = "https://api.verda.com/v1";

const errorBody = z.object({ code: z.string(), message: z.string() });
const tokenBody = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().nullish(),
  expires_in: z.number().positive(),
});
const price = z.union([z.number(), z.string()]);
const typesBody = z.array(
  z.object({
    instance_type: z.string(),
    price_per_hour: price,
    cpu: z.object({ number_of_cores: z.number() }),
    gpu: z.object({ description: z.string(), number_of_gpus: z.number() }),
    memory: z.object({ size_in_gigabytes: z.number() }),
    gpu_memory: z.object({ size_in_gigabytes: z.number() }),
    storage: z.object({ size_in_gigabytes: z.number() }).partial().nullish(),
    // Asked for in USD (`?currency=usd`); an answer in another currency is not a price gpuplane can sell from.
    currency: z.enum(["usd", "USD"]).optional(),
  }),
);
/**
 * GET /volumes: the account's volumes (those in the trash are not listed). Only what adoption reads is checked, and
 * a volume made outside gpuplane without a name or location does not make the whole answer unreadable.
 */
const volumesBody = z.array(
  z
    .object({
      id: z.string(),
      name: z.string().nullish(),
      location: z.string().nullish(),
      status: z.string().nullish(),
      size: z.number().nullish(),
      is_os_volume: z.boolean().nullish(),
      instance_id: z.string().nullish(),
    })
    .passthrough(),
);
const availabilityBody = z.array(z.object({ location_code: z.string(), availabilities: z.array(z.string()) }));
const instancesBody = z.array(
  z.object({
    id: z.string(),
    hostname: z.string().nullish(),
    ip: z.string().nullish(),
    status: z.string(),
    os_volume_id: z.string().nullish(),
  }),
);
/** An action answered 202/207 carries one result per instance (Go SDK `InstanceActionResult`); a 204, nothing. */
const actionResults = z.array(
  z.object({
    instanceId: z.string(),
    status: z.string(),
    error: z.string().nullish(),
    statusCode: z.number().nullish(),
  }),
);
const sshKeysBody = z.array(z.object({ id: z.string(), name: z.string() }));

/** Verda's statuses (Go SDK `instances_types.go`, Python SDK `constants.py`; test/providers/contracts/verda.ts). */
const states: Record<string, UpstreamInstance["state"]> = {
  ordered: "pending",
  new: "pending",
  provisioning: "pending",
  validating: "pending",
  pending: "pending",
  notfound: "gone",
  running: "running",
  offline: "stopped",
  starting_hibernation: "stopped",
  hibernating: "stopped",
  restoring: "pending",
  error: "failed",
  no_capacity: "failed",
  deleting: "gone",
  discontinued: "gone",
  deleted: "gone",
};

const CAPACITY = /capacity|no longer available|not available|insufficient resources|unavailable/i;

/**
 * The hostname an instance is launched with: gpuplane's tag (`gp-inst_…`) in the letters, digits and hyphens Verda
 * takes (verda-cli `cmd/util/hostname.go`, the console's rule). Ids are `<prefix>_<base32>`, so the first hyphen after
 * `gp-` is the underscore and `tagOfHostname` gives the tag back: adoption by tag and orphan detection read it.
 */
export function verdaHostname(tag: string): string {
  return tag.replace(/_/g, "-");
}

export function tagOfHostname(hostname: string): string {
  const m = /^gp-([a-z0-9]+)-([a-z0-9-]+)$/.exec(hostname);
  return m ? `gp-${m[1]}_${m[2]}` : hostname;
}

/**
 * Verda (formerly DataCrunch), as its official SDKs state its API (test/providers/contracts/verda.ts): OAuth2 client
 * credentials with a refreshed token, `{code,message}` errors, a new instance's id answered as plain text, batch actions
 * with `PUT /instances`. Its launch names the instance by `hostname`, which carries gpuplane's tag in letters, digits
 * and hyphens; it pins `pricing: FIXED_PRICE` (the price offers are sold from; Verda's default is dynamic, as dstack
 * found) and reads prices in USD (`?currency=usd`). A delete names the OS volume to delete with it, for good.
 */
export class VerdaCloud implements UpstreamCloud {
  readonly name = "verda" as const;
  readonly canStop = true;
  /** To be re-checked against Verda's docs and SDKs (issue 25). */
  readonly billing = {
    startsAt: "launch",
    endsAt: "gone",
    whileStopped: "full",
    incrementSeconds: 1,
    minimumSeconds: 0,
    source:
      "docs.verda.com/cpu-and-gpu-instances/shutdown-hibernate-and-delete and verda-cloud/verda-cli v1.7.2 cmd/vm/action.go (read 2026-12-05): shut-down instances continue to charge the account; storage not deleted with the instance charges on",
  } as const;
  readonly stopNote = "Verda keeps charging a shut-down instance its full price: delete it to stop billing";
  private http: UpstreamHttp;
  private token: { access: string; refresh: string | null; refreshAt: number } | null = null;
  private sshKeyIds = new Map<string, string>();

  constructor(
    private options: {
      clientId: string;
      clientSecret: string;
      baseUrl?: string;
      breaker: CircuitBreaker;
      timeoutMs?: number;
    },
  ) {
    const classify = (status: number, body: unknown) => {
      const parsed = errorBody.safeParse(body);
      const code = parsed.success ? parsed.data.code : `http_${status}`;
      const message = parsed.success ? `${code}: ${parsed.data.message}` : `HTTP ${status}`;
      if (code === "unauthorized_request" || status === 401) return { kind: "auth" as const, message };
      if (code === "not_found" || status === 404 || /invalid instance id/i.test(message))
        return { kind: "gone" as const, message };
      if (code !== "insufficient_funds" && CAPACITY.test(message)) return { kind: "capacity" as const, message };
      return { kind: "rejected" as const, message };
    };
    this.http = new UpstreamHttp({
      provider: "verda",
      baseUrl: options.baseUrl ?? VERDA_URL,
      breaker: options.breaker,
      timeoutMs: options.timeoutMs,
      classify,
      headers: async () => ({ authorization: `Bearer ${await this.accessToken()}` }),
    });
  }

  async types(): Promise<UpstreamType[]> {
    const [types, availability] = await Promise.all([
      this.call("GET", "/instance-types?currency=usd").then((b) =>
        parseAnswer("verda", typesBody, b, "instance-types"),
      ),
      this.call("GET", "/instance-availability").then((b) =>
        parseAnswer("verda", availabilityBody, b, "instance-availability"),
      ),
    ]);
    const out: UpstreamType[] = [];
    for (const location of availability) {
      for (const t of types) {
        const gpuModel = gpuModelOf(t.gpu.description);
        if (!gpuModel || t.gpu.number_of_gpus < 1) continue;
        out.push({
          upstreamType: t.instance_type,
          upstreamRegion: location.location_code,
          gpuModel,
          gpuCount: t.gpu.number_of_gpus,
          gpuMemoryGb: Math.round(t.gpu_memory.size_in_gigabytes / t.gpu.number_of_gpus),
          formFactor: gpuFormFactorOf(`${t.gpu.description} ${t.instance_type}`),
          vcpus: t.cpu.number_of_cores,
          ramGb: t.memory.size_in_gigabytes,
          diskGb: t.storage?.size_in_gigabytes ?? 0,
          pricePerHourMicros: usdPerHourToMicros(t.price_per_hour),
          available: location.availabilities.includes(t.instance_type),
        });
      }
    }
    return out;
  }

  async launch(request: LaunchRequest): Promise<string> {
    const sshKeyIds = await this.ensureSshKeys(request.sshPublicKeys);
    const id = await this.call<string>("POST", "/instances", {
      text: true,
      body: {
        instance_type: request.upstreamType,
        image: request.image,
        ssh_key_ids: sshKeyIds,
        hostname: verdaHostname(request.name),
        description: request.name,
        location_code: request.upstreamRegion,
        is_spot: false,
        // The price the offer was sold from: without it Verda bills its dynamic price (dstack verda/compute.py).
        pricing: "FIXED_PRICE",
        existing_volumes: request.volumeIds ?? [],
      },
    });
    return createdId(id, "launch answered no instance id");
  }

  async list(): Promise<UpstreamInstance[]> {
    const body = parseAnswer("verda", instancesBody, await this.call("GET", "/instances"), "instances");
    return body.map((i) => ({
      id: i.id,
      name: tagOfHostname(i.hostname ?? ""),
      status: i.status,
      state: states[i.status] ?? "unknown",
      ipAddress: i.ip ?? null,
      sshPort: i.ip ? 22 : null,
      sshUser: "root",
    }));
  }

  /** Verda block storage (`POST /volumes` answers the new id as text; `PUT /volumes {id, action}`). */
  readonly volumes: UpstreamVolumes = {
    create: async (volume) => {
      const id = await this.call<string>("POST", "/volumes", {
        text: true,
        body: {
          type: volume.type === "hdd" ? "HDD" : "NVMe",
          name: volume.name,
          size: volume.sizeGb,
          location_code: volume.location,
        },
      });
      return createdId(id, "volume create answered no id");
    },
    findByName: async (name, location) => {
      const listed = parseAnswer("verda", volumesBody, await this.call("GET", "/volumes"), "volumes");
      return listed.find((v) => v.name === name && v.location === location)?.id ?? null;
    },
    list: async (): Promise<UpstreamVolume[]> => {
      const listed = parseAnswer("verda", volumesBody, await this.call("GET", "/volumes"), "volumes");
      return listed.map((v) => ({
        id: v.id,
        name: v.name ?? "",
        status: v.status ?? "unknown",
        sizeGb: v.size ?? 0,
        location: v.location ?? null,
        isOsVolume: v.is_os_volume ?? false,
        instanceId: v.instance_id ?? null,
      }));
    },
    delete: async (id) => {
      try {
        await this.call("PUT", "/volumes", { text: true, body: { id: [id], action: "delete", is_permanent: true } });
      } catch (error) {
        if (!(error instanceof UpstreamError) || error.kind !== "gone") throw error;
      }
    },
  };

  /**
   * Deletes the instances and, with them, their OS volumes for good: Verda keeps (and charges for) every volume a delete
   * does not name (verda-cli `cmd/vm/action.go`; SDK `action(volume_ids, delete_permanently)`). A customer's volume
   * attached at launch is not named: it stays, detached, for gpuplane's volume.
   */
  async terminate(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const listed = parseAnswer("verda", instancesBody, await this.call("GET", "/instances"), "instances");
    const osVolumes = listed.filter((i) => ids.includes(i.id) && i.os_volume_id).map((i) => i.os_volume_id!);
    const body = osVolumes.length
      ? { id: ids, action: "delete", volume_ids: osVolumes, delete_permanently: true }
      : { id: ids, action: "delete" };
    await this.act(body);
  }

  stop(id: string): Promise<void> {
    return this.action([id], "shutdown");
  }

  start(id: string): Promise<void> {
    return this.action([id], "start");
  }

  private async action(ids: string[], action: string): Promise<void> {
    if (!ids.length) return;
    await this.act({ id: ids, action });
  }

  /** One `PUT /instances`; a 202/207 whose results carry an error for an instance is that instance's refusal. */
  private async act(body: { id: string[]; action: string; volume_ids?: string[]; delete_permanently?: boolean }) {
    const answer = String(await this.call("PUT", "/instances", { body, text: true })).trim();
    if (!answer) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer);
    } catch {
      return; // Verda has answered actions with an empty or plain-text body: the status said it was accepted.
    }
    const results = actionResults.safeParse(parsed);
    if (!results.success) return;
    const failed = results.data.find((r) => r.error);
    if (!failed) return;
    const message = `${body.action} ${failed.instanceId}: ${failed.error}`;
    const gone = failed.statusCode === 404 || /invalid instance id/i.test(failed.error ?? "");
    throw new UpstreamError("verda", gone ? "gone" : "rejected", message);
  }

  /** Every call but the token's: a 401 (token expired or revoked early) logs in again once and repeats the call. */
  private async call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    try {
      return await this.http.call<T>(method, path, options);
    } catch (error) {
      if (!(error instanceof UpstreamError) || error.kind !== "auth") throw error;
      this.token = null;
      return this.http.call<T>(method, path, options);
    }
  }

  /** Verda launches with key ids: each customer key is added once (named by its fingerprint) and remembered. */
  private async ensureSshKeys(publicKeys: string[]): Promise<string[]> {
    const missing = publicKeys.filter((k) => !this.sshKeyIds.has(k));
    if (missing.length) {
      const existing = parseAnswer("verda", sshKeysBody, await this.call("GET", "/sshkeys"), "sshkeys");
      for (const key of missing) {
        const name = keyName(key);
        const found = existing.find((e) => e.name === name);
        const id = found
          ? found.id
          : String(await this.call("POST", "/sshkeys", { body: { name, key }, text: true, idempotent: true })).trim();
        this.sshKeyIds.set(key, id);
      }
    }
    return publicKeys.map((k) => this.sshKeyIds.get(k)!);
  }

  /**
   * OAuth2 client credentials. The token is refreshed a minute before it expires; a refresh answered 400/401 (a
   * revoked or expired refresh token) logs in again from the client secret.
   */
  private async accessToken(): Promise<string> {
    const now = Date.now();
    if (this.token && this.token.refreshAt > now) return this.token.access;
    if (this.token?.refresh) {
      const refreshed = await this.requestToken({
        grant_type: "refresh_token",
        refresh_token: this.token.refresh,
      }).catch(() => null);
      if (refreshed) return refreshed;
    }
    const fresh = await this.requestToken({
      grant_type: "client_credentials",
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    });
    if (!fresh) throw new UpstreamError("verda", "auth", "the client id or secret was refused (POST /oauth2/token)");
    return fresh;
  }

  private async requestToken(body: Record<string, string>): Promise<string | null> {
    const base = (this.options.baseUrl ?? VERDA_URL).replace(/\/+$/, "");
    let res: Response;
    try {
      res = await fetch(`${base}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new UpstreamError("verda", "transient", `POST /oauth2/token: ${(error as Error).message}`);
    }
    if (res.status >= 500) throw new UpstreamError("verda", "transient", `POST /oauth2/token: HTTP ${res.status}`);
    if (!res.ok) return null;
    const parsed = parseAnswer("verda", tokenBody, await res.json().catch(() => null), "oauth2/token");
    this.token = {
      access: parsed.access_token,
      refresh: parsed.refresh_token ?? null,
      // A minute early (or halfway, for short-lived tokens), so no call goes out with a token about to expire.
      refreshAt: Date.now() + Math.max(parsed.expires_in * 500, parsed.expires_in * 1000 - 60_000),
    };
    return parsed.access_token;
  }
}

/** Verda answers a create with the new id as text, sometimes quoted: the id, or a malformed-answer error. */
function createdId(answer: unknown, missing: string): string {
  const id = String(answer).trim().replace(/^"|"$/g, "");
  if (!id || id.length > 100) throw new UpstreamError("verda", "malformed", missing);
  return id;
}
