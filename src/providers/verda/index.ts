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
  }),
);
/**
 * GET /volumes: the account's volumes (those in the trash are not listed). Only what adoption reads is checked, and
 * a volume made outside gpuplane without a name or location does not make the whole answer unreadable.
 */
const volumesBody = z.array(
  z.object({ id: z.string(), name: z.string().nullish(), location: z.string().nullish() }).passthrough(),
);
const availabilityBody = z.array(z.object({ location_code: z.string(), availabilities: z.array(z.string()) }));
const instancesBody = z.array(
  z.object({ id: z.string(), hostname: z.string().nullish(), ip: z.string().nullish(), status: z.string() }),
);
const sshKeysBody = z.array(z.object({ id: z.string(), name: z.string() }));

/** Verda's statuses (datacrunch-python constants, SkyPilot verda/instance.py). */
const states: Record<string, UpstreamInstance["state"]> = {
  ordered: "pending",
  new: "pending",
  provisioning: "pending",
  validating: "pending",
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
 * Verda (formerly DataCrunch): OAuth2 client credentials with a refreshed token, `{code,message}` errors, a new
 * instance's id answered as plain text, batch actions with `PUT /instances`. Its launch names the instance by
 * `hostname`, which carries gpuplane's tag.
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
    source: "verda-cloud/verda-cli vm/action.go (read 2026-12-04): shutdown instances continue to charge your account",
  } as const;
  readonly stopNote = "a stopped Verda instance keeps its OS volume; billing for it stops";
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
      this.call("GET", "/instance-types").then((b) => parseAnswer("verda", typesBody, b, "instance-types")),
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
        hostname: request.name,
        description: request.name,
        location_code: request.upstreamRegion,
        is_spot: false,
        existing_volumes: request.volumeIds ?? [],
      },
    });
    return createdId(id, "launch answered no instance id");
  }

  async list(): Promise<UpstreamInstance[]> {
    const body = parseAnswer("verda", instancesBody, await this.call("GET", "/instances"), "instances");
    return body.map((i) => ({
      id: i.id,
      name: i.hostname ?? "",
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
    delete: async (id) => {
      try {
        await this.call("PUT", "/volumes", { text: true, body: { id: [id], action: "delete", is_permanent: true } });
      } catch (error) {
        if (!(error instanceof UpstreamError) || error.kind !== "gone") throw error;
      }
    },
  };

  terminate(ids: string[]): Promise<void> {
    return this.action(ids, "delete");
  }

  stop(id: string): Promise<void> {
    return this.action([id], "shutdown");
  }

  start(id: string): Promise<void> {
    return this.action([id], "start");
  }

  private async action(ids: string[], action: string): Promise<void> {
    if (!ids.length) return;
    const body = action === "delete" ? { id: ids, action, delete_permanently: true } : { id: ids, action };
    await this.call("PUT", "/instances", { body, text: true });
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
