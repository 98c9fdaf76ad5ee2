import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gpuAllocations, gpus } from "../../src/db/schema/index.js";
import { describeOneDb, type Harness } from "../helpers/harness.js";
import { fund } from "../instances/fixtures.js";
import { dockerReady, podmanEnv, podmanReady, TEST_IMAGE } from "./podman.js";
import { TestHost, until as untilWithin } from "./spawn-agent.js";

/**
 * The whole flow on this machine's real podman: the real server over HTTP, the real agent (a child process), real
 * containers from a Debian-built image with an SSH server, and a real ssh client. Only the GPUs are stand-ins: a CDI
 * spec under /var/run/cdi whose devices are harmless nodes (/dev/null as /dev/gpuplane-gpu<i>) named by the UUIDs the
 * fake nvidia-smi reports, so what a container sees under /dev is exactly what the runtime gave it.
 */
/** Containers on a loaded 2-core CI machine can take a while: a minute before a wait gives up. */
const until = <T>(what: string, probe: () => Promise<T | undefined | false | null>, ms = 60_000) =>
  untilWithin(what, probe, ms);

type Engine = "podman" | "docker";
const engines: [Engine, () => true | string][] = [
  ["podman", podmanReady],
  ["docker", dockerReady],
];
for (const [engine, isReady] of engines) {
  const ready = isReady();
  if (ready !== true) console.warn(`warning: the container tests on ${engine} are skipped: ${ready}`);
  const suite = ready === true ? describeOneDb : (name: string) => describe.skip(`${name} (${ready})`, () => {});
  // The local test image (localhost/…) is a customer's own image in one test: the operator allows that registry.
  suite(`instances and jobs as containers on ${engine}`, (h) => containerTests(engine, h), {
    env: { GPUPLANE_IMAGE_REGISTRIES: "docker.io,localhost" },
  });
}

function containerTests(engine: Engine, h: () => Harness) {
  const run = randomBytes(3).toString("hex");
  const kind = `test${run}.gpuplane.dev/gpu`;
  const prefix = `gpt${run}`;
  const cdiFile = `/var/run/cdi/gpuplane-test-${run}.json`;
  const firstPort = 21000 + Math.floor(Math.random() * 400) * 100;
  const dir = mkdtempSync(join(tmpdir(), "gpuplane-ct-"));
  let http: ReturnType<typeof serve>;
  let url: string;
  let host: TestHost;
  let region: string;
  let clusterId: number;
  const keys: Record<string, string> = {};
  let uuids: string[] = [];

  /** The engine's own CLI, as an operator would use it on the host. */
  const podman = (...args: string[]) => execFileSync(engine, args, { env: podmanEnv(), encoding: "utf8" }).trim();
  // podman's .State reads "Up 3 seconds" / "Exited (0) …"; docker's is "running" / "exited", its .Status the former.
  const ours = () =>
    podman(
      ...["ps", "-a", "--filter", `label=gpuplane.agent=${prefix}`],
      ...["--format", `{{.Names}} {{.${engine === "docker" ? "Status" : "State"}}}`],
    );
  const ssh = (keyName: string | number, port: number, command: string) =>
    spawnSync(
      "ssh",
      [
        ...["-i", keys[keyName], "-p", String(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no"],
        ...["-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"],
        "root@127.0.0.1",
        command,
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
  const agentArgs = () => [
    ...["--runtime", engine, "--cdi-kind", kind, "--name-prefix", prefix, "--publish-ip", "127.0.0.1"],
    ...["--ssh-ports", `${firstPort}-${firstPort + 49}`, "--ip", "127.0.0.1", "--image", TEST_IMAGE],
    ...["--job-image", TEST_IMAGE, "--ssh-ready-timeout", "30", "--data-dir", join(dir, "data")],
    // No registry here: report the images, pull none (a host that cannot reach one).
    ...["--pull", "never"],
  ];
  const startAgent = (args: string[] = []) =>
    host.start([...agentArgs(), ...args], {
      CONTAINERS_CONF: podmanEnv().CONTAINERS_CONF ?? "",
      FAKE_NVIDIA_SMI_GPUS: "4",
    });

  async function customer() {
    const account = await h().signup();
    await fund(h(), account.tenantId);
    const file = join(dir, `key-${account.tenantId}`);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
    keys[account.tenantId] = file;
    const key = await h().post(
      "/api/v1/ssh-keys",
      { name: "laptop", public_key: readFileSync(`${file}.pub`, "utf8").trim() },
      account.key,
    );
    expect(key.status).toBe(201);
    return { ...account, sshKeyId: key.body.data.id as string };
  }
  const deploy = (c: { key: string; sshKeyId: string }, extra: Record<string, unknown> = {}) =>
    h().post(
      "/api/v1/deployments/clusters",
      {
        cluster_type: "1H100.80S.30V",
        image: "ubuntu-22.04-cuda-12.4-cluster",
        hostname: "ct",
        ssh_key_ids: [c.sshKeyId],
        location: region,
        ...extra,
      },
      c.key,
    );
  const deployment = async (id: string, key: string) => (await h().get(`/api/v1/deployments/${id}`, key)).body.data;
  const untilStatus = (id: string, key: string, status: string, ms = 60_000) =>
    until(
      `${id} ${status}`,
      async () => {
        const d = await deployment(id, key);
        return d.status === status && d;
      },
      ms,
    );
  const portOf = (sshCommand: string) => Number(/-p (\d+) root@127\.0\.0\.1$/.exec(sshCommand)![1]);
  /** The GPU devices the instance's allocation names, as the CDI spec maps them into a container. */
  async function allocatedDevices(instanceId: string) {
    const rows = await h()
      .ctx.db.select({ index: gpus.gpuIndex })
      .from(gpuAllocations)
      .innerJoin(gpus, eq(gpus.id, gpuAllocations.gpuId))
      .where(eq(gpuAllocations.instanceId, instanceId));
    return rows.map((r) => `gpuplane-gpu${r.index}`).sort();
  }

  beforeAll(async () => {
    http = serve({ fetch: h().app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise((r) => http.once("listening", r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    region = `CT-${run}-${h().kind}`.toUpperCase();
    expect((await h().post("/api/v1/regions", { id: region, name: "Container test" })).status).toBe(201);
    const cluster = await h().post("/api/v1/clusters", { name: `ct-${run}-${h().kind}`, region });
    clusterId = cluster.body.data.id;
    // The test image stands in for the catalog's CUDA image: set through the operator's images API.
    const patched = await h().patch("/api/v1/images/ubuntu-22.04-cuda-12.4-cluster", { oci_ref: TEST_IMAGE });
    expect(patched.body.data.oci_ref).toBe(TEST_IMAGE);
    host = new TestHost(`ct-host-${run}`);
    uuids = execFileSync(
      join(resolve(import.meta.dirname, "../../packages/agent/test/fake-nvidia-smi"), "nvidia-smi"),
      ["-L"],
      {
        env: { ...process.env, FAKE_NVIDIA_SMI_GPUS: "4" },
        encoding: "utf8",
      },
    )
      .trim()
      .split("\n")
      .map((l) => /UUID: ([^)]+)\)/.exec(l)![1]);
    // GPUs 0-2 only: the fourth is missing from the CDI spec, as after a GPU swap without `nvidia-ctk cdi generate`.
    writeFileSync(
      cdiFile,
      JSON.stringify({
        cdiVersion: "0.5.0",
        kind,
        devices: uuids.slice(0, 3).map((uuid, i) => ({
          name: uuid,
          containerEdits: {
            env: [`GPUPLANE_TEST_GPU_${i}=${uuid}`],
            deviceNodes: [{ path: `/dev/gpuplane-gpu${i}`, hostPath: "/dev/null" }],
          },
        })),
      }),
    );
    const token = (await h().post(`/api/v1/clusters/${cluster.body.data.id}/join-tokens`, {})).body.data.token;
    startAgent(["--server", url, "--token", token]);
    await until("agent joined", async () => host.output.includes("joined as node"));
  }, 180_000);

  afterAll(async () => {
    await host?.stop();
    if (process.env.GPUPLANE_TEST_AGENT_LOG) writeFileSync(process.env.GPUPLANE_TEST_AGENT_LOG, host.output);
    for (const line of ours().split("\n").filter(Boolean)) podman("rm", "-f", line.split(" ")[0]);
    rmSync(cdiFile, { force: true });
    rmSync(dir, { recursive: true, force: true });
    await new Promise((r) => http.close(r));
  });

  // Docker has no CDI (its GPUs go through --gpus and the NVIDIA hook): the warning is podman's.
  it.skipIf(engine === "docker")(
    "warns at start-up about a GPU no CDI spec names, with the command that fixes it",
    async () => {
      await until("CDI warning", async () => host.output.includes("nvidia-ctk cdi generate"));
      expect(host.output).toContain(`${kind}=${uuids[3]}`);
      expect(host.output).toContain("nvidia-ctk cdi generate");
    },
  );

  let a: { id: string; port: number; tenant: Awaited<ReturnType<typeof customer>> };

  it("a customer's instance is a container with exactly its GPU, reachable by SSH with their key and no other", async () => {
    const tenant = await customer();
    const created = await deploy(tenant, { new_volumes: [{ name: "work", size_gb: 10 }] });
    expect(created.status).toBe(201);
    expect(created.body.data.status).toBe("provisioning");
    const running = await untilStatus(created.body.data.id, tenant.key, "running");
    const port = portOf(running.ssh_command);
    expect(port).toBeGreaterThanOrEqual(firstPort);
    a = { id: created.body.data.id, port, tenant };
    const inside = ssh(tenant.tenantId, port, "ls /dev | grep gpuplane-gpu; ls -d /data/*");
    expect(inside.stderr).toBe("");
    expect(inside.stdout.trim().split("\n")).toEqual([...(await allocatedDevices(a.id)), "/data/work"]);
    const stranger = await customer();
    const refused = ssh(stranger.tenantId, port, "true");
    expect(refused.status).toBe(255);
    expect(refused.stderr).toMatch(/Permission denied/);
    // Limits from the instance type: CPUs capped to what the host has, memory 180 GB as typed, a pids limit.
    const limits = JSON.parse(podman("inspect", `${prefix}-i-${a.id}`))[0].HostConfig;
    expect(limits.PidsLimit).toBe(4096);
    expect(limits.Memory).toBeGreaterThan(0);
    expect(limits.NanoCpus).toBeGreaterThan(0);
  }, 180_000);

  it("a second tenant's instance on the node sees neither the first one's GPU nor its processes", async () => {
    expect(
      ssh(a.tenant.tenantId, a.port, "setsid sleep 7777 </dev/null >/dev/null 2>&1 & echo started").stdout,
    ).toContain("started");
    const tenant = await customer();
    const created = await deploy(tenant);
    const running = await untilStatus(created.body.data.id, tenant.key, "running");
    const port = portOf(running.ssh_command);
    expect(port).not.toBe(a.port);
    const mine = await allocatedDevices(created.body.data.id);
    expect(mine).not.toEqual(await allocatedDevices(a.id));
    const inside = ssh(tenant.tenantId, port, "ls /dev | grep gpuplane-gpu; ps -o args");
    expect(inside.stdout).toContain(mine[0]);
    expect(inside.stdout).not.toContain((await allocatedDevices(a.id))[0]);
    expect(inside.stdout).not.toContain("sleep 7777");
    expect(ssh(a.tenant.tenantId, a.port, "ps -o args").stdout).toContain("sleep 7777");
    expect((await h().del(`/api/v1/deployments/${created.body.data.id}`, tenant.key)).status).toBe(200);
  }, 180_000);

  it("stop and start keep the instance's files and port; delete removes the container and keeps the volume", async () => {
    expect(ssh(a.tenant.tenantId, a.port, "echo kept > /root/file.txt && echo vol > /data/work/v.txt").status).toBe(0);
    const stop = await h().post(`/api/v1/deployments/${a.id}/stop`, undefined, a.tenant.key);
    expect(stop.body.data.status).toBe("stopping"); // billed until the agent says the container stopped
    await until("container stopped", async () => ours().toLowerCase().includes(`${prefix}-i-${a.id} exited`));
    await untilStatus(a.id, a.tenant.key, "stopped");
    expect((await h().post(`/api/v1/deployments/${a.id}/start`, undefined, a.tenant.key)).status).toBe(200);
    const again = await untilStatus(a.id, a.tenant.key, "running");
    expect(portOf(again.ssh_command)).toBe(a.port);
    expect(ssh(a.tenant.tenantId, a.port, "cat /root/file.txt").stdout.trim()).toBe("kept");
    const volume = (await h().get("/api/v1/volumes", a.tenant.key)).body.data.find((v: any) => v.instance_id === a.id);
    expect((await h().del(`/api/v1/deployments/${a.id}`, a.tenant.key)).body.data.status).toBe("deleting");
    await until("container removed", async () => !ours().includes(`${prefix}-i-${a.id}`));
    await untilStatus(a.id, a.tenant.key, "deleted");
    expect(readFileSync(join(dir, "data", "volumes", volume.id, "v.txt"), "utf8").trim()).toBe("vol");
  }, 180_000);

  it("two tenants on one host: neither reaches the other's container nor the host's ports; each reaches its own SSH", async () => {
    // Stands in for the host's agent/server port: a listener on every address of the host that greets and hangs up.
    const listener = createServer((socket) => socket.end("gpuplane-host\n"));
    await new Promise<void>((r) => listener.listen(0, "0.0.0.0", r));
    const hostPort = (listener.address() as AddressInfo).port;
    const hostIp = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal)?.address;
    try {
      // After the first tenant's instance is deleted: the two take 2 of the 3 GPUs the CDI spec names.
      const [one, two] = [await customer(), await customer()];
      const [d1, d2] = [await deploy(one), await deploy(two)];
      const [r1, r2] = [
        await untilStatus(d1.body.data.id, one.key, "running"),
        await untilStatus(d2.body.data.id, two.key, "running"),
      ];
      const [p1, p2] = [portOf(r1.ssh_command), portOf(r2.ssh_command)];
      const ipOf = (id: string) => {
        const nets = JSON.parse(podman("inspect", `${prefix}-i-${id}`))[0].NetworkSettings.Networks;
        return Object.values(nets as Record<string, { IPAddress: string }>)[0].IPAddress;
      };
      const [ip1, ip2] = [ipOf(d1.body.data.id), ipOf(d2.body.data.id)];
      // Each tenant on a network of its own.
      expect(ip1.split(".").slice(0, 3)).not.toEqual(ip2.split(".").slice(0, 3));
      /** What a TCP connect from inside the tenant's container gets: the peer's first words, or nothing. */
      const probe = (tenant: string | number, port: number, targets: [string, number][]) =>
        ssh(
          tenant,
          port,
          targets
            .map(([ip, p]) => `echo "${ip}:${p}=$(timeout 8 nc -w 3 ${ip} ${p} </dev/null 2>/dev/null | head -c 7)"`)
            .join(";"),
        )
          .stdout.trim()
          .split("\n");
      const gateway = (tenant: string | number, port: number) =>
        /default via (\S+)/.exec(ssh(tenant, port, "ip route").stdout)![1];
      for (const [me, myPort, myIp, otherIp, otherPort] of [
        [one.tenantId, p1, ip1, ip2, p2],
        [two.tenantId, p2, ip2, ip1, p1],
      ] as const) {
        const targets: [string, number][] = [
          [myIp, 22], // itself: shows the probe works
          [otherIp, 22], // the other tenant's container
          [gateway(me, myPort), hostPort], // the host, through the bridge's gateway
          ...(hostIp
            ? ([
                [hostIp, hostPort],
                [hostIp, otherPort],
              ] as [string, number][])
            : []), // the host's address
        ];
        expect(probe(me, myPort, targets)).toEqual([
          `${myIp}:22=SSH-2.0`,
          `${otherIp}:22=`,
          `${targets[2][0]}:${hostPort}=`,
          ...(hostIp ? [`${hostIp}:${hostPort}=`, `${hostIp}:${otherPort}=`] : []),
        ]);
        // Its own SSH port from outside still works.
        expect(ssh(me, myPort, "echo mine").stdout.trim()).toBe("mine");
      }
      for (const [d, c] of [
        [d1, one],
        [d2, two],
      ] as const)
        expect((await h().del(`/api/v1/deployments/${d.body.data.id}`, c.key)).status).toBe(200);
      await untilStatus(d1.body.data.id, one.key, "deleted");
      await untilStatus(d2.body.data.id, two.key, "deleted");
      // Each tenant's network goes with its last container.
      await until("tenant networks removed", async () => {
        const nets = podman("network", "ls", "--format", "{{.Name}}").split("\n");
        return !nets.includes(`${prefix}-t${one.tenantId}`) && !nets.includes(`${prefix}-t${two.tenantId}`);
      });
    } finally {
      listener.close();
    }
  }, 240_000);

  it("an own image with an env var, a secret and an http port launches; the port answers with the env var", async () => {
    const tenant = await customer();
    const greeting = `hello-${run}`;
    const secret = `secret-${randomBytes(8).toString("hex")}`;
    const created = await h().post(
      "/api/v1/instances",
      {
        ...{ planId: "GPU.H100.1x", sshKeyId: tenant.sshKeyId, region, image: TEST_IMAGE },
        env: [
          { name: "GREETING", value: greeting },
          { name: "TOKEN", value: secret, secret: true },
        ],
        command: [
          "sh",
          "-c",
          'mkdir -p /www && echo "$GREETING $TOKEN" > /www/index.html && exec httpd -f -p 8080 -h /www',
        ],
        ports: [{ port: 8080, protocol: "http" }],
      },
      tenant.key,
    );
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    const running = await until(
      `${id} running`,
      async () => {
        const i = (await h().get(`/api/v1/instances/${id}`, tenant.key)).body.data;
        return i.status === "running" && i.ports[0]?.url && i;
      },
      90_000,
    );
    expect(running.ports[0].url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await until("port answers", async () => {
      const res = await fetch(running.ports[0].url).catch(() => null);
      return res?.ok && (await res.text());
    });
    expect(page.trim()).toBe(`${greeting} ${secret}`); // the container has its secret; the API never shows it
    const answers = [
      created.text,
      (await h().get(`/api/v1/instances/${id}`, tenant.key)).text,
      (await h().get(`/api/v1/instances/${id}/events`, tenant.key)).text,
    ];
    for (const text of answers) expect(text).not.toContain(secret);
    expect(host.output).not.toContain(secret);
    // The runtime's own record of the container carries no secret either (the env goes through a root-only file).
    expect(podman("inspect", `${prefix}-i-${id}`)).not.toContain(secret);
    expect((await h().del(`/api/v1/instances/${id}`, tenant.key)).status).toBe(200);
  }, 180_000);

  it("a job runs its command in an image with its GPU; its output and exit status come back", async () => {
    const tenant = await customer();
    const submitted = await h().post(
      "/api/v1/jobs",
      {
        cluster_id: clusterId,
        name: "ct-job",
        image: TEST_IMAGE,
        command: 'ls /dev | grep gpuplane-gpu; echo "to stderr" >&2; echo "job $GPUPLANE_JOB_ID $GREETING"; exit 3',
        env: { GREETING: "it's\nfine" },
      },
      tenant.key,
    );
    expect(submitted.status).toBe(201);
    await h().runWorker("scheduler");
    const done = await until("job ended", async () => {
      const j = (await h().get(`/api/v1/jobs/${submitted.body.data.id}`, tenant.key)).body.data;
      return j.status === "failed" && j;
    });
    expect(done.exit_code).toBe(3);
    // The env reached the command intact (a quote, a newline), through a file read inside the container.
    expect(done.output_tail).toBe(`gpuplane-gpu${done.gpu_indices[0]}\nto stderr\njob ${done.id} it's\nfine\n`);
    await until("job container removed", async () => !ours().includes(`${prefix}-j-${done.id}`));
  }, 180_000);

  it("cancelling a job stops its container (SIGTERM, grace, kill) and removes it", async () => {
    const submitted = await h().post("/api/v1/jobs", {
      cluster_id: clusterId,
      name: "long",
      command: "trap 'echo got SIGTERM; exit 143' TERM; echo waiting; while true; do sleep 1; done",
    });
    await h().runWorker("scheduler");
    const name = `${prefix}-j-${submitted.body.data.id}`;
    await until("job running", async () => ours().includes(`${name} `) && ours().toLowerCase().includes(`${name} up`));
    expect((await h().post(`/api/v1/jobs/${submitted.body.data.id}/cancel`)).status).toBe(200);
    await until("container gone", async () => !ours().includes(name));
    const j = (await h().get(`/api/v1/jobs/${submitted.body.data.id}`)).body.data;
    expect(j.status).toBe("cancelled");
    expect(await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.jobId, j.id))).toEqual([]);
  }, 180_000);

  it("a GPU missing from the CDI spec fails the job with the runtime's message; the agent keeps serving", async () => {
    const submitted = await h().post("/api/v1/jobs", {
      cluster_id: clusterId,
      name: "all-gpus",
      gpu_count: 4,
      command: "true",
    });
    await h().runWorker("scheduler");
    const failed = await until("job failed", async () => {
      const j = (await h().get(`/api/v1/jobs/${submitted.body.data.id}`)).body.data;
      return j.status === "failed" && j;
    });
    expect(failed.output_tail).toContain(uuids[3]);
    expect(failed.output_tail).toMatch(/CDI|unresolvable/i);
    const held = await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.jobId, failed.id));
    expect(held).toEqual([]);
  }, 180_000);

  it("an image on no host is refused at create, naming it and the fix; loaded on the host, it is accepted", async () => {
    const image = `missing-${run}`;
    const ref = `localhost/gpuplane/${image}:1`;
    const created = await h().post("/api/v1/images", {
      ...{ id: image, name: "Missing", os: "none", compatible_gpus: ["H100"], oci_ref: ref },
    });
    expect(created.status).toBe(201);
    expect(
      (await h().post("/api/v1/images", { ...created.body.data, id: `${image}-bad`, oci_ref: "-v x" })).status,
    ).toBe(400);
    const tenant = await customer();
    const refused = await deploy(tenant, { image });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toContain(`image '${image}' (${ref}) is on no node`);
    expect(refused.body.error).toContain("podman load");
    // The node reports what its runtime has: the test image yes, this one not.
    const nodeView = async () => (await h().get(`/api/v1/nodes?cluster_id=${clusterId}`)).body.data[0];
    const states = (await nodeView()).images.catalog;
    expect(states).toContainEqual({ image_id: image, oci_ref: ref, state: "missing", error: null });
    expect(states).toContainEqual(expect.objectContaining({ oci_ref: TEST_IMAGE, state: "present" }));
    expect((await nodeView()).storage).toMatchObject({ disk_limit: expect.any(Boolean) });
    // The operator loads it on the host (a tag stands in for `podman load -i image.tar`): seen at the next heartbeat.
    podman("tag", TEST_IMAGE, ref);
    try {
      await until("image reported", async () =>
        (await nodeView()).images.catalog.some(
          (c: { oci_ref: string; state: string }) => c.oci_ref === ref && c.state === "present",
        ),
      );
      const d = await deploy(tenant, { image });
      expect(d.status).toBe(201);
      const running = await untilStatus(d.body.data.id, tenant.key, "running");
      // overlay on ext4 here: the type's disk size is shown as not enforced, and no --storage-opt was given.
      const enforced = (await nodeView()).storage.disk_limit;
      expect(running.disk).toMatchObject({ enforced });
      if (!enforced) {
        const opts = podman("inspect", "--format", "{{json .HostConfig}}", `${prefix}-i-${d.body.data.id}`);
        expect(opts).not.toMatch(/"StorageOpt":\{[^}]*size/i);
      }
      await h().del(`/api/v1/deployments/${d.body.data.id}`, tenant.key);
    } finally {
      await h().patch(`/api/v1/images/${image}`, { active: false });
      try {
        podman("rmi", ref); // only the tag: the test image keeps its own
      } catch {
        // still used by the container being removed: left for the next run's cleanup
      }
    }
  }, 180_000);

  it("an agent killed mid-run and started again loses nothing, runs nothing twice, and removes orphans", async () => {
    const tenant = await customer();
    const inst = await deploy(tenant);
    const running = await untilStatus(inst.body.data.id, tenant.key, "running");
    const containerId = podman("inspect", "--format", "{{.Id}}", `${prefix}-i-${inst.body.data.id}`);
    const job = await h().post("/api/v1/jobs", {
      cluster_id: clusterId,
      name: "survivor",
      command: "echo started; sleep 3; echo finished",
    });
    await h().runWorker("scheduler");
    await until(
      "job running",
      async () => (await h().get(`/api/v1/jobs/${job.body.data.id}`)).body.data.status === "running",
    );
    await host.stop("SIGKILL");
    // A container of ours the server never heard of: the next agent reports it as an orphan and removes it.
    podman(
      "run",
      "-d",
      "--name",
      `${prefix}-i-ghost`,
      "--label",
      `gpuplane.agent=${prefix}`,
      "--label",
      "gpuplane.kind=instance",
      "--label",
      "gpuplane.id=ghost",
      TEST_IMAGE,
      "sleep",
      "300",
    );
    await new Promise((r) => setTimeout(r, 4000)); // the job ends while no agent is there
    host.output = "";
    startAgent();
    const ended = await until("job result", async () => {
      const j = (await h().get(`/api/v1/jobs/${job.body.data.id}`)).body.data;
      return j.status === "completed" && j;
    });
    expect(ended.output_tail).toBe("started\nfinished\n");
    await until("orphan removed", async () => !ours().includes(`${prefix}-i-ghost`));
    expect(host.output).toContain("orphan instance ghost");
    // The instance's container is the same one, still running, still reachable.
    expect(podman("inspect", "--format", "{{.Id}}", `${prefix}-i-${inst.body.data.id}`)).toBe(containerId);
    expect(ssh(tenant.tenantId, portOf(running.ssh_command), "echo hi").stdout.trim()).toBe("hi");
    expect((await deployment(inst.body.data.id, tenant.key)).status).toBe("running");
    expect(
      ours()
        .split("\n")
        .filter((l) => l.includes(`-j-${job.body.data.id}`)),
    ).toEqual([]);
  }, 180_000);
}
