import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { type FakeAnswer, FakeCloud, fakeIp } from "./server.js";

interface Pod {
  id: string;
  name: string;
  gpuTypeId: string;
  dataCenterId: string;
  image: string;
  n: number;
  desiredStatus: "CREATED" | "RUNNING" | "EXITED" | "TERMINATED";
  /** When the image pull ends and port 22 gets a public mapping. */
  readyAt: number;
  port: number | null;
  lastStartedAt: number | null;
  runSeconds: number;
}

/**
 * RunPod's REST API (pods) and the GraphQL query gpuplane makes for GPU types, as runpod-python and the SkyPilot and
 * dstack adapters see them: a pod is RUNNING but unreachable until the image is pulled and port 22 has a public
 * mapping; every start maps port 22 anew; a stop is EXITED; errors are `{error}`; GraphQL errors come with HTTP 200.
 */
export class RunPodFake extends FakeCloud {
  apiKey = `rpa_${randomBytes(12).toString("hex").toUpperCase()}`;
  pullMs = 30_000;
  stock: Record<string, string | null> = { "NVIDIA H100 80GB HBM3": "High", "NVIDIA A100 80GB PCIe": "Low" };
  pods = new Map<string, Pod>();
  private count = 0;
  private nextPort = 40_000;

  env() {
    return {
      GPUPLANE_RUNPOD_API_KEY: this.apiKey,
      GPUPLANE_RUNPOD_URL: this.url,
      GPUPLANE_RUNPOD_GRAPHQL_URL: `${this.url}/graphql`,
    };
  }

  override reset(): void {
    super.reset();
    this.pods.clear();
    this.nextPort = 40_000;
  }

  protected handle(method: string, path: string, body: any, req: IncomingMessage): FakeAnswer {
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return { status: 401, body: { error: "Unauthorized" } };
    const route = `${method} ${path.split("?")[0]}`;
    if (route === "POST /graphql") return this.graphql(body);
    if (route === "GET /pods") return { status: 200, body: this.live().map((p) => this.view(p)) };
    if (route === "POST /pods") return this.create(body);
    const m = /^(POST|DELETE) \/pods\/([^/]+)(?:\/(start|stop))?$/.exec(route);
    const pod = m ? this.pods.get(m[2]) : undefined;
    if (!m || !pod || pod.desiredStatus === "TERMINATED") return { status: 404, body: { error: "pod not found" } };
    this.settle(pod);
    if (m[1] === "DELETE") {
      this.end(pod);
      pod.desiredStatus = "TERMINATED";
      return { status: 204, body: undefined };
    }
    if (m[3] === "stop") {
      this.end(pod);
      pod.desiredStatus = "EXITED";
      pod.port = null;
    } else {
      pod.desiredStatus = "RUNNING";
      pod.readyAt = this.now() + 5_000;
      pod.port = null;
    }
    return { status: 200, body: this.view(pod) };
  }

  live(): Pod[] {
    return [...this.pods.values()].filter((p) => p.desiredStatus !== "TERMINATED");
  }

  byName(name: string) {
    return this.live().filter((p) => p.name === name);
  }

  /** Seconds a pod had a reachable container (RunPod bills running pods). */
  runningSeconds(id: string): number {
    const p = this.pods.get(id)!;
    this.settle(p);
    return p.runSeconds + (p.lastStartedAt !== null && p.port ? Math.floor((this.now() - p.lastStartedAt) / 1000) : 0);
  }

  private create(body: any): FakeAnswer {
    const gpu = body?.gpuTypeIds?.[0];
    if (!gpu || !body?.imageName) return { status: 400, body: { error: "gpuTypeIds and imageName are required" } };
    // A container image reference: [registry/]repository[:tag|@digest], lowercase repository.
    if (!/^([a-z0-9.-]+(:\d+)?\/)?[a-z0-9._/-]+(:[\w.-]+|@sha256:[a-f0-9]{64})?$/.test(body.imageName)) {
      return { status: 400, body: { error: `invalid imageName: ${body.imageName}` } };
    }
    if (!this.stock[gpu]) {
      return {
        status: 500,
        body: {
          error:
            "There are no longer any instances available with the requested specifications. Please refresh and try again.",
        },
      };
    }
    const id = randomBytes(7).toString("hex");
    const pod: Pod = {
      id,
      name: body.name ?? "",
      gpuTypeId: gpu,
      dataCenterId: body.dataCenterIds?.[0] ?? "EU-RO-1",
      image: body.imageName,
      n: this.count++,
      desiredStatus: "RUNNING",
      readyAt: this.now() + this.pullMs,
      port: null,
      lastStartedAt: null,
      runSeconds: 0,
    };
    this.pods.set(id, pod);
    return { status: 201, body: this.view(pod) };
  }

  private graphql(body: any): FakeAnswer {
    if (!String(body?.query ?? "").includes("gpuTypes")) {
      return { status: 200, body: { errors: [{ message: "Cannot query field on type Query" }] } };
    }
    const gpuTypes = [
      { id: "NVIDIA H100 80GB HBM3", displayName: "H100 SXM", memoryInGb: 80, securePrice: 2.99 },
      { id: "NVIDIA A100 80GB PCIe", displayName: "A100 PCIe", memoryInGb: 80, securePrice: 1.64 },
    ].map((t) => ({ ...t, lowestPrice: { stockStatus: this.stock[t.id] ?? null } }));
    return { status: 200, body: { data: { gpuTypes } } };
  }

  /** The image pull ends: port 22 gets a public mapping, a new one on every start. */
  private settle(p: Pod) {
    if (p.desiredStatus === "RUNNING" && p.port === null && this.now() >= p.readyAt) {
      p.port = this.nextPort++;
      p.lastStartedAt = p.readyAt;
    }
  }

  private end(p: Pod) {
    if (p.desiredStatus === "RUNNING" && p.port !== null && p.lastStartedAt !== null) {
      p.runSeconds += Math.floor((this.now() - p.lastStartedAt) / 1000);
    }
    p.lastStartedAt = null;
  }

  private view(p: Pod) {
    this.settle(p);
    const reachable = p.desiredStatus === "RUNNING" && p.port !== null;
    return {
      id: p.id,
      name: p.name,
      image: p.image,
      desiredStatus: p.desiredStatus,
      costPerHr: 2.99,
      gpu: { id: p.gpuTypeId, count: 1, displayName: p.gpuTypeId },
      machine: { dataCenterId: p.dataCenterId },
      publicIp: reachable ? fakeIp(200 + p.n) : null,
      portMappings: reachable ? { "22": p.port } : {},
      ports: ["22/tcp"],
      lastStartedAt: p.lastStartedAt ? new Date(p.lastStartedAt).toISOString() : null,
    };
  }
}
