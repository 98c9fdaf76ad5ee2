/**
 * The agent's container bookkeeping holding N instances, in a process of its own (bundled by esbuild and run by plain
 * node, as a GPU host runs the agent): the real ContainerHost, passes every 100 ms as the 1 s watch and long polls
 * would make them, over a simulated runtime that answers `list` with N containers' inspect records (podman's size).
 * Prints its RSS after the passes. The containers themselves are not real: podman's processes are not the agent's.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerHost } from "../../packages/agent/src/containers.js";
import type {
  ContainerInfo,
  ContainerRuntime,
  ContainerSpec,
  NetworkInfo,
} from "../../packages/agent/src/runtime/types.js";
import { StateDir } from "../../packages/agent/src/state.js";

const N = Number(process.argv[2] ?? 50);
const PASSES = Number(process.argv[3] ?? 300);
const containers: ContainerInfo[] = [];
const nets: NetworkInfo[] = [];
const runtime: ContainerRuntime = {
  name: "podman",
  check: async () => "simulated",
  run: async (s: ContainerSpec) => {
    containers.push({
      ...{ id: s.name.padEnd(64, "0"), name: s.name, labels: s.labels, running: true, state: "running" },
      ...{ exitCode: null, error: "", startedAt: new Date().toISOString(), finishedAt: null },
    });
    return s.name;
  },
  start: async () => {},
  stop: async () => {},
  remove: async () => {},
  // A fresh copy each pass, as parsing `podman inspect` output gives.
  list: async () => JSON.parse(JSON.stringify(containers)),
  logsTail: async () => "",
  network: async (name, labels) => {
    let n = nets.find((x) => x.name === name);
    if (!n) {
      n = { name, bridge: "", subnets: ["10.89.0.0/24"], labels };
      nets.push(n);
    }
    return n;
  },
  networks: async () => [...nets],
  removeNetwork: async () => {},
  storage: async () => ({ driver: "overlay", backingFs: "ext4", diskLimit: false, reason: "simulated" }),
  images: async () => ["docker.io/library/ubuntu:22.04"],
  hasImage: async () => true,
  pull: async () => {},
};
const state = new StateDir(mkdtempSync(join(tmpdir(), "agent-rss-")));
const host = new ContainerHost(
  runtime,
  state,
  {
    ...{ namePrefix: "bench", sshPorts: [20000, 20999], publishIp: "0.0.0.0", dataDir: state.path("data") },
    ...{ cdiKind: "nvidia.com/gpu", defaultImage: "img", jobImage: "img", pidsLimit: 4096, killGraceS: 1 },
    ...{ sshReadyTimeoutMs: 300_000, firewall: false },
  },
  { report: async () => true, address: () => "10.0.0.7", log: () => {} },
);
const instances = Array.from({ length: N }, (_, i) => ({
  ...{ id: `inst_${String(i).padStart(26, "0")}`, status: "running", gpu_indices: [i % 8] },
  ...{ gpu_uuids: [`GPU-${String(i).padStart(8, "0")}-0000-0000-0000-000000000000`], tenant_id: 1 + (i % 10) },
  ...{ ssh_public_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3ZYrhlDkQ9S0ZydS4UhV9Q2bqkMZ0i0Ji1jv6m0Q5x user"] },
  ...{ image: "docker.io/library/ubuntu:22.04", vcpus: 8, ram_gb: 64, disk_gb: 200, volumes: [] },
  ...{ env: {}, command: null, ports: [] },
}));
await host.apply({ jobs: [], instances });
for (let i = 0; i < PASSES; i++) {
  await host.watch();
  await new Promise((r) => setTimeout(r, 10));
}
host.close();
globalThis.gc?.();
process.stdout.write(`${JSON.stringify({ containers: containers.length, rss: process.memoryUsage().rss })}\n`);
