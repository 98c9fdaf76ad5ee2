import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ContainerHost } from "../src/containers.js";
import { ImageKeeper } from "../src/images.js";
import { cdiDevices, gpusMissingFromCdi } from "../src/runtime/cdi.js";
import { CliRuntime, runArgs, storageVerdict } from "../src/runtime/cli-runtime.js";
import {
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerSpec,
  type NetworkInfo,
  RuntimeError,
} from "../src/runtime/types.js";
import { StateDir } from "../src/state.js";

const spec: ContainerSpec = {
  name: "gpuplane-i-inst_1",
  image: "docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04",
  labels: { "gpuplane.kind": "instance", "gpuplane.id": "inst_1" },
  entrypoint: "/bin/sh",
  command: ["-c", "exec sshd"],
  gpuUuids: ["GPU-aaa", "GPU-bbb"],
  cdiKind: "nvidia.com/gpu",
  cpus: 8,
  cpuset: "0,1,2,3,4,5,6,7",
  memoryMb: 65536,
  pidsLimit: 4096,
  ports: [{ hostIp: "0.0.0.0", host: 20001, container: 22 }],
  mounts: [{ source: "/var/lib/gpuplane/volumes/vol_1", target: "/data/work" }],
};

describe("the run argv", () => {
  it("podman: GPUs as CDI devices by UUID, limits, labels, the port and the volume", () => {
    const args = runArgs("podman", spec);
    expect(args.join(" ")).toBe(
      "run --detach --name gpuplane-i-inst_1 --init --label gpuplane.kind=instance --label gpuplane.id=inst_1 " +
        "--device nvidia.com/gpu=GPU-aaa --device nvidia.com/gpu=GPU-bbb --cpus 8 " +
        "--cpuset-cpus 0,1,2,3,4,5,6,7 --memory 65536m --pids-limit 4096 --publish 0.0.0.0:20001:22 " +
        "--volume /var/lib/gpuplane/volumes/vol_1:/data/work --entrypoint /bin/sh " +
        "docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04 -c exec sshd",
    );
  });

  // Docker cannot run on this machine (no engine): its argv is what is checked. Its native GPU request is --gpus,
  // with the device list quoted so the comma is not read as an option separator.
  it("docker: GPUs through --gpus with the UUIDs quoted, no CDI device names", () => {
    const args = runArgs("docker", spec);
    expect(args).toContain('"device=GPU-aaa,GPU-bbb"');
    expect(args[args.indexOf('"device=GPU-aaa,GPU-bbb"') - 1]).toBe("--gpus");
    expect(args.some((a) => a.startsWith("nvidia.com/gpu="))).toBe(false);
    expect(args.slice(0, 5)).toEqual(["run", "--detach", "--name", "gpuplane-i-inst_1", "--init"]);
  });

  it("a workload without GPUs gets no GPU flag at all", () => {
    for (const runtime of ["podman", "docker"] as const) {
      const args = runArgs(runtime, { ...spec, gpuUuids: [] });
      expect(args).not.toContain("--device");
      expect(args).not.toContain("--gpus");
    }
  });
});

describe("CDI specs", () => {
  it("reads device names from nvidia-ctk's YAML (sorted keys) and from JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "cdi-"));
    writeFileSync(
      join(dir, "nvidia.yaml"),
      `---
cdiVersion: 0.5.0
containerEdits:
  deviceNodes:
  - path: /dev/nvidiactl
  hooks:
  - args:
    - nvidia-ctk
    - hook
    hookName: createContainer
    path: /usr/bin/nvidia-ctk
devices:
- containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
  name: "0"
- containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
  name: GPU-aaa
- containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
  name: all
kind: nvidia.com/gpu
`,
    );
    writeFileSync(
      join(dir, "other.json"),
      JSON.stringify({ cdiVersion: "0.5.0", kind: "example.com/gpu", devices: [{ name: "GPU-bbb" }] }),
    );
    writeFileSync(join(dir, "broken.json"), "{");
    const found = cdiDevices([dir, join(dir, "absent")]);
    expect([...(found.get("nvidia.com/gpu") ?? [])].sort()).toEqual(["0", "GPU-aaa", "all"]);
    expect([...(found.get("example.com/gpu") ?? [])]).toEqual(["GPU-bbb"]);
    expect(gpusMissingFromCdi(["GPU-aaa", "GPU-ccc"], "nvidia.com/gpu", [dir])).toEqual(["GPU-ccc"]);
    expect(gpusMissingFromCdi(["GPU-aaa"], "nvidia.com/gpu", [join(dir, "absent")])).toEqual(["GPU-aaa"]);
  });
});

/** A runtime holding containers in memory: enough to drive the agent's bookkeeping (ports) without podman. */
class MemoryRuntime implements ContainerRuntime {
  readonly name = "podman" as const;
  readonly containers: ContainerInfo[] = [];
  readonly runs: ContainerSpec[] = [];
  async check() {
    return "test";
  }
  async run(s: ContainerSpec) {
    this.runs.push(s);
    this.containers.push({
      ...{ id: s.name, name: s.name, labels: s.labels, running: true, state: "running", exitCode: null },
      ...{ error: "", startedAt: null, finishedAt: null },
    });
    return s.name;
  }
  async start() {}
  async stop() {}
  async remove(name: string) {
    const i = this.containers.findIndex((c) => c.name === name);
    if (i >= 0) this.containers.splice(i, 1);
  }
  async list() {
    return [...this.containers];
  }
  async logsTail() {
    return "";
  }
  readonly nets: NetworkInfo[] = [];
  async network(name: string, labels: Record<string, string>) {
    let n = this.nets.find((x) => x.name === name);
    if (!n) {
      n = { name, bridge: "", subnets: [], labels };
      this.nets.push(n);
    }
    return n;
  }
  async networks() {
    return [...this.nets];
  }
  async removeNetwork(name: string) {
    this.nets.splice(
      this.nets.findIndex((n) => n.name === name),
      1,
    );
  }
  /** The storage under the runtime: overlay on ext4 (no size limit) unless a test says xfs with pquota. */
  fs: { fs: string; pquota: boolean } = { fs: "ext4", pquota: false };
  async storage() {
    return storageVerdict("podman", "overlay", this.fs.fs, this.fs.pquota);
  }
  /** Local images, what a pull of each reference does (absent: the registry does not answer). */
  readonly local = new Set<string>();
  readonly registry = new Map<string, string>();
  readonly pulls: string[] = [];
  async images() {
    return [...this.local].sort();
  }
  async hasImage(ref: string) {
    return this.local.has(ref);
  }
  async pull(ref: string) {
    this.pulls.push(ref);
    if (!this.registry.has(ref)) throw new RuntimeError(`initializing source docker://${ref}: connection refused`);
    this.local.add(ref);
  }
}

describe("tenant networks", () => {
  it("each tenant's containers go on a network of their own, made on first use and removed with its last container", async () => {
    const runtime = new MemoryRuntime();
    const state = new StateDir(mkdtempSync(join(tmpdir(), "agent-state-")));
    const host = new ContainerHost(
      runtime,
      state,
      {
        ...{ namePrefix: "t", sshPorts: [20000, 20009], publishIp: "127.0.0.1", dataDir: state.path("data") },
        ...{ cdiKind: "k/gpu", defaultImage: "img", jobImage: "img", pidsLimit: 100, killGraceS: 1 },
        sshReadyTimeoutMs: 1000,
      },
      { report: async () => true, address: () => "10.0.0.1", log: () => {} },
    );
    const instance = (id: string, tenant: number) => ({
      ...{ id, status: "provisioning", gpu_indices: [0], gpu_uuids: [`G-${id}`], ssh_public_keys: ["ssh-ed25519 A x"] },
      ...{ tenant_id: tenant, image: null, vcpus: 1, ram_gb: 1, disk_gb: 200, volumes: [] },
      ...{ env: {}, command: null, ports: [] },
    });
    await host.apply({ jobs: [], instances: [instance("a", 1), instance("b", 2), instance("c", 1)] });
    expect(runtime.runs.map((r) => [r.name, r.network])).toEqual([
      ["t-i-a", "t-t1"],
      ["t-i-b", "t-t2"],
      ["t-i-c", "t-t1"],
    ]);
    expect(runtime.nets.map((n) => [n.name, n.labels["gpuplane.tenant"]])).toEqual([
      ["t-t1", "1"],
      ["t-t2", "2"],
    ]);
    await host.apply({ jobs: [], instances: [instance("a", 1)] });
    expect(runtime.nets.map((n) => n.name)).toEqual(["t-t1"]);
  });
});

describe("disk limits", () => {
  it("are enforced only where the storage driver can: overlay on xfs with pquota, docker's btrfs/zfs/devicemapper", () => {
    expect(storageVerdict("podman", "overlay", "xfs", true).diskLimit).toBe(true);
    expect(storageVerdict("docker", "overlay2", "xfs", true).diskLimit).toBe(true);
    expect(storageVerdict("docker", "btrfs", "btrfs", false).diskLimit).toBe(true);
    const ext4 = storageVerdict("podman", "overlay", "ext4", false);
    expect(ext4).toMatchObject({ diskLimit: false, driver: "overlay", backingFs: "ext4" });
    expect(ext4.reason).toBe(
      "overlay enforces a size only on xfs mounted with pquota (here: ext4): the instance type's disk size is not enforced on this node",
    );
    expect(storageVerdict("docker", "vfs", "ext4", false).reason).toContain("the vfs storage driver cannot limit");
  });
});

describe("an instance's disk size", () => {
  const launch = async (fs: { fs: string; pquota: boolean }) => {
    const runtime = new MemoryRuntime();
    runtime.fs = fs;
    const state = new StateDir(mkdtempSync(join(tmpdir(), "agent-state-")));
    const host = new ContainerHost(
      runtime,
      state,
      {
        ...{ namePrefix: "t", sshPorts: [20000, 20009], publishIp: "127.0.0.1", dataDir: state.path("data") },
        ...{ cdiKind: "k/gpu", defaultImage: "img", jobImage: "img", pidsLimit: 100, killGraceS: 1 },
        sshReadyTimeoutMs: 1000,
      },
      { report: async () => true, address: () => "10.0.0.1", log: () => {} },
    );
    await host.apply({
      jobs: [],
      instances: [
        {
          ...{ id: "a", status: "provisioning", gpu_indices: [0], gpu_uuids: ["G-0"], ssh_public_keys: ["k"] },
          ...{ tenant_id: 1, image: null, vcpus: 1, ram_gb: 1, disk_gb: 200, volumes: [] },
          ...{ env: {}, command: null, ports: [] },
        },
      ],
    });
    return runArgs("podman", runtime.runs[0]);
  };

  it("is the container's --storage-opt size where the storage enforces it (overlay on xfs with pquota)", async () => {
    const args = await launch({ fs: "xfs", pquota: true });
    expect(args.slice(args.indexOf("--storage-opt"), args.indexOf("--storage-opt") + 2)).toEqual([
      "--storage-opt",
      "size=200G",
    ]);
  });

  it("is left off where the runtime would refuse it (overlay on ext4, xfs without pquota)", async () => {
    expect(await launch({ fs: "ext4", pquota: false })).not.toContain("--storage-opt");
    expect(await launch({ fs: "xfs", pquota: false })).not.toContain("--storage-opt");
  });
});

describe("the host's images", () => {
  const keeper = (policy: "missing" | "never") => {
    const runtime = new MemoryRuntime();
    const log: string[] = [];
    return { runtime, log, images: new ImageKeeper(runtime, policy, (m) => log.push(m)) };
  };

  it("--pull missing pulls the wanted images the host lacks, once, and reports a failed pull with its reason", async () => {
    const { runtime, log, images } = keeper("missing");
    runtime.local.add("localhost/loaded:1");
    runtime.registry.set("registry.internal:5000/pytorch:24.05", "ok");
    const wanted = ["localhost/loaded:1", "registry.internal:5000/pytorch:24.05", "docker.io/nvidia/cuda:12"];
    images.want(wanted);
    await images.settled();
    expect(runtime.pulls).toEqual(["docker.io/nvidia/cuda:12", "registry.internal:5000/pytorch:24.05"]);
    expect(await images.report()).toEqual({
      present: ["localhost/loaded:1", "registry.internal:5000/pytorch:24.05"],
      pull: "missing",
      failed: [
        {
          ref: "docker.io/nvidia/cuda:12",
          error: "initializing source docker://docker.io/nvidia/cuda:12: connection refused",
        },
      ],
    });
    expect(log.join("\n")).toContain("WARNING: image docker.io/nvidia/cuda:12 could not be pulled");
    // Each heartbeat repeats the list: no pull again until it changes (or the retry interval passes).
    images.want(wanted);
    await images.settled();
    expect(runtime.pulls).toHaveLength(2);
    images.want([...wanted, "docker.io/library/ubuntu:22.04"]);
    await images.settled();
    expect(runtime.pulls.slice(2)).toEqual(["docker.io/library/ubuntu:22.04", "docker.io/nvidia/cuda:12"]);
  });

  it("--pull never only reports what the host has, an image loaded by hand included", async () => {
    const { runtime, images } = keeper("never");
    images.want(["docker.io/nvidia/cuda:12"]);
    await images.settled();
    expect(await images.report()).toEqual({ present: [], pull: "never", failed: [] });
    runtime.local.add("docker.io/nvidia/cuda:12"); // podman load -i cuda.tar
    expect((await images.report()).present).toEqual(["docker.io/nvidia/cuda:12"]);
    expect(runtime.pulls).toEqual([]);
  });
});

describe("SSH ports", () => {
  it("a node whose port range is used up fails the next instance, saying so, and keeps the ones it has", async () => {
    const runtime = new MemoryRuntime();
    const reports: [string, unknown][] = [];
    const state = new StateDir(mkdtempSync(join(tmpdir(), "agent-state-")));
    const host = new ContainerHost(
      runtime,
      state,
      {
        ...{ namePrefix: "t", sshPorts: [20000, 20001], publishIp: "127.0.0.1", dataDir: state.path("data") },
        ...{ cdiKind: "k/gpu", defaultImage: "img", jobImage: "img", pidsLimit: 100, killGraceS: 1 },
        sshReadyTimeoutMs: 1000,
      },
      { report: async (path, body) => reports.push([path, body]) > 0, address: () => "10.0.0.1", log: () => {} },
    );
    const instance = (id: string, uuid: string) => ({
      ...{ id, status: "provisioning", gpu_indices: [0], gpu_uuids: [uuid], ssh_public_keys: ["ssh-ed25519 AAAA x"] },
      ...{ tenant_id: 1, image: null, vcpus: 1, ram_gb: 1, disk_gb: 200, volumes: [] },
      ...{ env: {}, command: null, ports: [] },
    });
    const three = [instance("a", "G-0"), instance("b", "G-1"), instance("c", "G-2")];
    await host.apply({ jobs: [], instances: three });
    expect(runtime.runs.map((r) => r.ports[0].host)).toEqual([20000, 20001]);
    expect(reports).toContainEqual([
      "/agent/instances/c/failed",
      { reason: "no free SSH port on this node: all of 20000-20001 are held by its containers" },
    ]);
    expect(runtime.containers.map((c) => c.name)).toEqual(["t-i-a", "t-i-b"]);
  });
});

describe("a runtime that is not there", () => {
  it("says so: the check fails with the reason, and a launch fails with the same words instead of hanging", async () => {
    const runtime = new CliRuntime("podman", "/nonexistent/podman");
    await expect(runtime.check()).rejects.toThrow(
      "container runtime podman is not working: /nonexistent/podman is not installed (not found on PATH)",
    );
    await expect(runtime.run(spec)).rejects.toThrow("/nonexistent/podman is not installed");
    await expect(runtime.list("gpuplane.agent", "x")).rejects.toBeInstanceOf(RuntimeError);
  });
});
