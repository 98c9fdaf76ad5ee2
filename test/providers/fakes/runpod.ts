import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { CloudContract } from "../contracts/contract.js";
import { runpodContract } from "../contracts/runpod.js";
import { type FakeAnswer, FakeCloud, fakeIp } from "./server.js";

type CloudType = "SECURE" | "COMMUNITY";
type Level = "NONE" | "LOW" | "MEDIUM" | "HIGH";
type Status = "PROVISIONING" | "STARTING" | "RUNNING" | "EXITED" | "TERMINATED";

interface Pod {
  id: string;
  name: string;
  gpuTypeId: string;
  dataCenterId: string;
  cloud: CloudType;
  image: string;
  env: Record<string, string>;
  ports: string[];
  n: number;
  status: Status;
  createdAt: number;
  /** When the image pull of this start ends: RUNNING from then on. */
  readyAt: number;
  /** The public port mapped to 22 on this start (a new one every start), once RUNNING. */
  port: number | null;
  startedAt: number | null;
  /** Seconds billed so far (RunPod bills by the second from the create, storage apart) and since when it runs on. */
  billedSeconds: number;
  billingSince: number | null;
  /** Its container disk (`disk`, 50 GB when left out as v1's default was) and volume disk (`mounts.persistent`). */
  diskGb: number;
  volumeGb: number;
  /** Seconds spent stopped (EXITED) so far, when only a volume disk bills, and since when it is stopped. */
  stoppedSeconds: number;
  stoppedSince: number | null;
}

export interface RunPodGpuType {
  id: string;
  name: string;
  memory: number;
  pool: string;
  secure: number;
  community: number;
}

/** Where each cloud type has stock, as "SECURE/EU-RO-1/<gpu id>" → level (absent: not offered there). */
const stockKey = (cloud: CloudType, dc: string, gpu: string) => `${cloud}/${dc}/${gpu}`;
const DATA_CENTERS = ["EU-RO-1", "US-KS-2"];
/**
 * RunPod's storage prices (runpod/docs pods/pricing.mdx): container disk $0.10/GB/month while running, nothing
 * stopped; volume disk $0.10/GB/month running, $0.20/GB/month stopped; per second, a month taken as 30 days.
 */
export const RUNPOD_STORAGE = { diskRunning: 0.1, volumeRunning: 0.1, volumeStopped: 0.2, monthSeconds: 30 * 86_400 };
const NO_CAPACITY =
  "There are no longer any instances available with the requested specifications. Please refresh and try again.";

const problem = (status: number, title: string, detail: string, errors?: string[]): FakeAnswer => ({
  status,
  body: { title, status, detail, ...(errors ? { errors } : {}) },
  headers: { "content-type": "application/problem+json" },
});
const notFound = () => problem(404, "Not Found", "The requested Pod does not exist.");

/**
 * RunPod's REST API v2, held to its OpenAPI 2.0.0 contract (test/providers/contracts/runpod.ts): a pod goes
 * PROVISIONING → STARTING → RUNNING once its image is pulled (`pullMs`), and has a direct SSH endpoint (the host's IP
 * and the public port mapped to 22, a new one on every start) only `sshLagMs` after that; stock is per cloud type and
 * per data center, and a create where the asked cloud and data center have none is a 400 with a human-readable
 * detail; errors are RFC 9457 problems; lists are `{pods: […]}`; lifecycle goes through `POST /v2/pods/{id}/action`.
 */
export class RunPodFake extends FakeCloud {
  apiKey = `rpa_${randomBytes(12).toString("hex").toUpperCase()}`;
  pullMs = 30_000;
  sshLagMs = 0;
  override contract: CloudContract | null = runpodContract;
  gpuTypes: RunPodGpuType[] = [
    { id: "NVIDIA H100 80GB HBM3", name: "H100 SXM", memory: 80, pool: "HOPPER_80", secure: 2.99, community: 2.69 },
    { id: "NVIDIA A100 80GB PCIe", name: "A100 PCIe", memory: 80, pool: "AMPERE_80", secure: 1.64, community: 1.19 },
  ];
  stock = new Map<string, Level>();
  pods = new Map<string, Pod>();
  private count = 0;
  private nextPort = 40_000;

  constructor() {
    super();
    this.restock();
  }

  env() {
    return { GPUPLANE_RUNPOD_API_KEY: this.apiKey, GPUPLANE_RUNPOD_URL: this.url };
  }

  override reset(): void {
    super.reset();
    this.pods.clear();
    this.nextPort = 40_000;
    this.sshLagMs = 0;
    this.restock();
  }

  /** H100s plentiful and A100s scarce, in both clouds and both data centers. */
  restock(): void {
    this.stock.clear();
    for (const cloud of ["SECURE", "COMMUNITY"] as const) {
      for (const dc of DATA_CENTERS) {
        this.stock.set(stockKey(cloud, dc, "NVIDIA H100 80GB HBM3"), "HIGH");
        this.stock.set(stockKey(cloud, dc, "NVIDIA A100 80GB PCIe"), "LOW");
      }
    }
  }

  /** Sets the stock of a GPU type: in one cloud type and data center, or (left out) in all of them. */
  setStock(gpu: string, level: Level, where: { cloud?: CloudType; dataCenter?: string } = {}): void {
    for (const cloud of where.cloud ? [where.cloud] : (["SECURE", "COMMUNITY"] as const)) {
      for (const dc of where.dataCenter ? [where.dataCenter] : DATA_CENTERS)
        this.stock.set(stockKey(cloud, dc, gpu), level);
    }
  }

  protected override refuse(problems: string[]): FakeAnswer {
    if (problems.some((p) => p.includes("no such operation"))) return problem(404, "Not Found", problems.join("; "));
    return problem(422, "Unprocessable Entity", "The request does not match the API contract.", problems);
  }

  protected handle(method: string, path: string, body: any, req: IncomingMessage): FakeAnswer {
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return problem(401, "Unauthorized", "A valid API key is required.");
    }
    const [route, query] = [`${method} ${path.split("?")[0]}`, new URLSearchParams(path.split("?")[1] ?? "")];
    if (route === "GET /v2/catalog/gpus") return { status: 200, body: { gpus: this.catalog(query) } };
    if (route === "GET /v2/pods") return { status: 200, body: { pods: this.live().map((p) => this.view(p)) } };
    if (route === "POST /v2/pods") return this.create(body);
    const m = /^(GET|DELETE|POST) \/v2\/pods\/([^/]+)(\/action)?$/.exec(route);
    const pod = m ? this.pods.get(decodeURIComponent(m[2])) : undefined;
    if (!m || !pod || pod.status === "TERMINATED") return notFound();
    this.settle(pod);
    if (m[1] === "GET") return { status: 200, body: this.view(pod) };
    if (m[1] === "DELETE") {
      this.terminate(pod);
      return { status: 204 };
    }
    return this.action(pod, body.action);
  }

  live(): Pod[] {
    return [...this.pods.values()].filter((p) => p.status !== "TERMINATED");
  }

  byName(name: string) {
    return this.live().filter((p) => p.name === name);
  }

  /** Seconds RunPod bills the pod's compute for: by the second from the create (or a start) to its stop or delete. */
  billedSeconds(id: string): number {
    const p = this.pods.get(id)!;
    return p.billedSeconds + (p.billingSince === null ? 0 : Math.floor((this.now() - p.billingSince) / 1000));
  }

  /**
   * What RunPod charges for the pod so far, in micro-dollars (to the nearest, as gpuplane's ledger rounds): its hourly GPU price for the compute seconds
   * (billedSeconds), its container and volume disks while it runs, and its volume disk while it is stopped.
   */
  charge(id: string): bigint {
    const p = this.pods.get(id)!;
    const gpu = this.gpuTypes.find((t) => t.id === p.gpuTypeId)!;
    const perHour = p.cloud === "SECURE" ? gpu.secure : gpu.community;
    const running = this.billedSeconds(id);
    const stopped = p.stoppedSeconds + (p.stoppedSince === null ? 0 : Math.floor((this.now() - p.stoppedSince) / 1000));
    const { diskRunning, volumeRunning, volumeStopped, monthSeconds } = RUNPOD_STORAGE;
    // In micro-dollars × monthSeconds × 3600, kept in integers.
    const den = BigInt(monthSeconds) * 3_600n;
    const micros = (usd: number) => BigInt(Math.round(usd * 1_000_000));
    const num =
      micros(perHour) * BigInt(running) * BigInt(monthSeconds) +
      (micros(diskRunning) * BigInt(p.diskGb) + micros(volumeRunning) * BigInt(p.volumeGb)) * BigInt(running) * 3_600n +
      micros(volumeStopped) * BigInt(p.volumeGb) * BigInt(stopped) * 3_600n;
    return (2n * num + den) / (2n * den);
  }

  /** The pod disappears without a delete (RunPod's host failed, or it was deleted in RunPod's console). */
  removeBehindBack(id: string): void {
    this.pods.delete(id);
  }

  private action(pod: Pod, action: "start" | "stop" | "restart" | "terminate"): FakeAnswer {
    const refuse = () => problem(409, "Conflict", `Action ${action} is not valid for a pod that is ${pod.status}.`);
    if (action === "terminate") {
      this.terminate(pod);
      return { status: 204 };
    }
    if (action === "stop") {
      if (pod.status === "EXITED") return refuse();
      this.endBilling(pod);
      pod.stoppedSince = this.now();
      pod.status = "EXITED";
      pod.port = null;
      pod.startedAt = null;
    } else {
      if (action === "start" && pod.status !== "EXITED") return refuse();
      if (action === "restart" && pod.status !== "RUNNING") return refuse();
      if (action === "start") {
        pod.billingSince = this.now();
        this.endStopped(pod);
      }
      pod.status = "STARTING";
      pod.readyAt = this.now() + 5_000;
      pod.port = null;
      pod.startedAt = null;
    }
    return { status: 200, body: this.view(pod) };
  }

  private terminate(pod: Pod) {
    this.endBilling(pod);
    this.endStopped(pod);
    pod.status = "TERMINATED";
  }

  private endStopped(p: Pod) {
    if (p.stoppedSince !== null) p.stoppedSeconds += Math.floor((this.now() - p.stoppedSince) / 1000);
    p.stoppedSince = null;
  }

  private endBilling(p: Pod) {
    p.billedSeconds = this.billedSeconds(p.id);
    p.billingSince = null;
  }

  private create(body: any): FakeAnswer {
    const gpu = this.gpuTypes.find((t) => t.id === body.gpu?.id);
    if (!gpu) return problem(400, "Bad Request", `GPU type ${body.gpu?.id} does not exist.`);
    // A container image reference: [registry/]repository[:tag|@digest], lowercase repository.
    if (!/^([a-z0-9.-]+(:\d+)?\/)?[a-z0-9._/-]+(:[\w.-]+|@sha256:[a-f0-9]{64})?$/.test(body.image)) {
      return problem(400, "Bad Request", `invalid image: ${body.image}`);
    }
    const cloud: CloudType = body.cloud ?? "SECURE";
    const candidates: string[] = body.dataCenterIds ?? DATA_CENTERS;
    // Placed only where this cloud type has stock of the GPU in one of the data centers asked for.
    const dc = candidates.find((d) => (this.stock.get(stockKey(cloud, d, gpu.id)) ?? "NONE") !== "NONE");
    if (!dc) return problem(400, "Bad Request", NO_CAPACITY);
    const now = this.now();
    const id = randomBytes(7).toString("hex");
    const pod: Pod = {
      id,
      name: body.name,
      gpuTypeId: gpu.id,
      dataCenterId: dc,
      cloud,
      image: body.image,
      env: body.env ?? {},
      ports: body.ports ?? [],
      n: this.count++,
      status: "PROVISIONING",
      createdAt: now,
      readyAt: now + this.pullMs,
      port: null,
      startedAt: null,
      billedSeconds: 0,
      billingSince: now,
      diskGb: body.disk ?? 50,
      volumeGb: body.mounts?.persistent?.size ?? 0,
      stoppedSeconds: 0,
      stoppedSince: null,
    };
    this.pods.set(id, pod);
    return { status: 201, body: this.view(pod) };
  }

  private catalog(query: URLSearchParams) {
    const withStock = query.get("include") === "AVAILABILITY";
    const cloud = (query.get("cloud") ?? "SECURE") as CloudType;
    const rank: Level[] = ["NONE", "LOW", "MEDIUM", "HIGH"];
    return this.gpuTypes.map((t) => {
      const dataCenters = DATA_CENTERS.flatMap((dc) => {
        const level = this.stock.get(stockKey(cloud, dc, t.id));
        return level ? [{ id: dc, name: dc, availability: level }] : [];
      });
      const best = dataCenters.reduce<Level>(
        (top, dc) => (rank.indexOf(dc.availability) > rank.indexOf(top) ? dc.availability : top),
        "NONE",
      );
      return {
        id: t.id,
        name: t.name,
        pool: t.pool,
        manufacturer: "NVIDIA",
        memory: t.memory,
        secure: true,
        community: true,
        price: { secure: t.secure, community: t.community },
        maxCount: { secure: 8, community: 8 },
        ...(withStock ? { availability: best, ...(best !== "NONE" ? { dataCenters } : {}) } : {}),
      };
    });
  }

  /** PROVISIONING for the first half of the pull, STARTING for the rest, then RUNNING with port 22 mapped anew. */
  private settle(p: Pod) {
    const now = this.now();
    if (p.status === "PROVISIONING" && now >= p.createdAt + this.pullMs / 2) p.status = "STARTING";
    if (p.status === "STARTING" && now >= p.readyAt) {
      p.status = "RUNNING";
      p.port = this.nextPort++;
      p.startedAt = p.readyAt;
    }
  }

  private view(p: Pod) {
    this.settle(p);
    const ip = fakeIp(200 + p.n);
    const direct =
      p.status === "RUNNING" && p.port !== null && this.now() >= p.readyAt + this.sshLagMs
        ? { host: ip, port: p.port, username: "root", command: `ssh root@${ip} -p ${p.port}` }
        : null;
    const gpu = this.gpuTypes.find((t) => t.id === p.gpuTypeId)!;
    const actions: Record<Status, ("start" | "stop" | "restart" | "terminate")[]> = {
      PROVISIONING: ["stop", "terminate"],
      STARTING: ["stop", "terminate"],
      RUNNING: ["stop", "restart", "terminate"],
      EXITED: ["start", "terminate"],
      TERMINATED: [],
    };
    const proxyUser = `${p.id}-64411eb2`;
    return {
      id: p.id,
      name: p.name,
      image: p.image,
      args: "",
      disk: p.diskGb,
      ports: p.ports,
      env: p.env,
      registry: null,
      status: p.status,
      actions: actions[p.status],
      mounts: p.volumeGb ? { persistent: { size: p.volumeGb, path: "/workspace" } } : {},
      gpu: { id: p.gpuTypeId, count: 1 },
      cloud: p.cloud,
      dataCenterId: p.dataCenterId,
      cudaVersion: "12.8",
      ssh: {
        proxy: { host: "ssh.runpod.io", port: 22, username: proxyUser, command: `ssh ${proxyUser}@ssh.runpod.io` },
        direct,
      },
      template: null,
      cost: p.cloud === "SECURE" ? gpu.secure : gpu.community,
      locked: false,
      globalNetworking: { enabled: false },
      runtime:
        p.status === "RUNNING" && p.startedAt !== null
          ? {
              uptime: Math.floor((this.now() - p.startedAt) / 1000),
              ports: [{ private: 22, public: p.port, type: "tcp", ip }],
            }
          : null,
      createdAt: new Date(p.createdAt).toISOString(),
      startedAt: p.startedAt === null ? null : new Date(p.startedAt).toISOString(),
    };
  }
}
