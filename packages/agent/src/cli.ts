import { parseArgs } from "node:util";
import { AGENT_VERSION, Agent, type AgentOptions, discover, joinBody, metricsOf } from "./agent.js";
import { defaultStateDir } from "./state.js";
import { agentSha256 } from "./version.js";

/** The agent exits with this after replacing its own file (an upgrade): its supervisor starts it again. */
export const RESTART_EXIT_CODE = 75;

const DEFAULT_IMAGE = "docker.io/library/ubuntu:22.04";
const DEFAULT_JOB_IMAGE = "docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04";

const usage = `gpuplane agent — joins this GPU host to a gpuplane fleet, reports health and metrics, runs assigned work

  gpuplane-agent --server URL --token TOKEN   join (once) and run; the node credential is kept in the state dir
  gpuplane-agent                              run with the stored credential
  gpuplane-agent --once --dry-run             print what was discovered and would be sent; contacts nothing
  gpuplane-agent --version                    print the version and the sha256 of this file

options:
  --state-dir DIR        credentials, pid files, metric outbox (default ~/.gpuplane-agent)
  --hostname NAME        report this hostname (default: os.hostname())
  --ip ADDRESS           report this address (default: the first non-internal IPv4)
  --interval S           seconds between metric samples and heartbeats (default 10)
  --wait S               long-poll for assignments up to S seconds (default 30)
  --nvidia-smi PATH      nvidia-smi binary (default: nvidia-smi on PATH)
  --max-temp C           a GPU at or over C degrees is degraded (default 85)
  --xid-log FILE         kernel log to read Xid errors from (e.g. /var/log/kern.log)
  --kill-grace S         SIGTERM → SIGKILL delay when a job is stopped (default 10)
  --drain-timeout S      on SIGTERM, let running jobs finish this long before stopping them (default 30)
  --manage-users         --runtime none, as root: create a Linux user per instance (useradd) for SSH access

containers (each instance and job runs in its own container holding exactly its GPUs, by CDI):
  --runtime NAME         podman (default), docker, or none (bare processes: only for a host given whole to one tenant)
  --runtime-binary PATH  the runtime's CLI (default: its name on PATH)
  --ssh-ports LO-HI      host ports for the instances' sshd (default 20000-20999); open them in the firewall
  --publish-ip ADDRESS   address the SSH ports bind to (default 0.0.0.0)
  --data-dir DIR         instance volumes live in DIR/volumes/<id> (default STATE_DIR/data)
  --cdi-kind KIND        CDI device kind of the GPUs (default nvidia.com/gpu, as nvidia-ctk cdi generate writes)
  --image REF            image for an instance whose catalog image has no oci_ref (default ${DEFAULT_IMAGE})
  --job-image REF        image for a job that names none (default ${DEFAULT_JOB_IMAGE})
  --pull POLICY          missing (default): pull the images the server lists (its catalog's and GPUPLANE_NODE_IMAGES)
                         that this host lacks, at join and when the list changes; never: only report which it has
                         (a host without a registry: load them with podman load)
  --name-prefix P        container names and the gpuplane.agent label (default gpuplane)
  --pids-limit N         process limit per container (default 4096)
  --ssh-ready-timeout S  how long sshd may take to answer in a new container before it fails (default 300)
  --isolation MODE       tenant (default): each tenant's containers on a network of their own, walled by iptables
                         (chains GPUPLANE-ISOLATE, GPUPLANE-TENANTS, GPUPLANE-HOST): no connection to another
                         tenant's containers nor to this host's ports; none: the runtime's default network
  --no-firewall          tenant networks without the iptables rules (you keep your own)
  --once                 one cycle, then exit`;

function parse(args: string[]): {
  options: AgentOptions;
  once: boolean;
  dryRun: boolean;
  help: boolean;
  version: boolean;
} {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      "state-dir": { type: "string" },
      hostname: { type: "string" },
      ip: { type: "string" },
      interval: { type: "string" },
      wait: { type: "string" },
      "nvidia-smi": { type: "string" },
      "max-temp": { type: "string" },
      "xid-log": { type: "string" },
      "kill-grace": { type: "string" },
      "drain-timeout": { type: "string" },
      "manage-users": { type: "boolean" },
      runtime: { type: "string" },
      "runtime-binary": { type: "string" },
      "ssh-ports": { type: "string" },
      "publish-ip": { type: "string" },
      "data-dir": { type: "string" },
      "cdi-kind": { type: "string" },
      image: { type: "string" },
      "job-image": { type: "string" },
      pull: { type: "string" },
      "name-prefix": { type: "string" },
      "pids-limit": { type: "string" },
      "ssh-ready-timeout": { type: "string" },
      isolation: { type: "string" },
      "no-firewall": { type: "boolean" },
      once: { type: "boolean" },
      "dry-run": { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
    strict: true,
  });
  const num = (name: string, fallback: number) => {
    const raw = values[name as keyof typeof values];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  };
  const runtime = values.runtime ?? "podman";
  if (runtime !== "podman" && runtime !== "docker" && runtime !== "none") {
    throw new Error("--runtime must be podman, docker or none");
  }
  const ports = /^(\d+)-(\d+)$/.exec(values["ssh-ports"] ?? "20000-20999");
  if (!ports || Number(ports[1]) < 1 || Number(ports[2]) > 65535 || Number(ports[1]) > Number(ports[2])) {
    throw new Error("--ssh-ports must be a range LO-HI of ports, e.g. 20000-20999");
  }
  const pull = values.pull ?? "missing";
  if (pull !== "missing" && pull !== "never") throw new Error("--pull must be missing or never");
  const isolation = values.isolation ?? "tenant";
  if (isolation !== "tenant" && isolation !== "none") throw new Error("--isolation must be tenant or none");
  const prefix = values["name-prefix"] ?? "gpuplane";
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(prefix)) throw new Error("--name-prefix may hold letters, digits, _ . -");
  const stateDir = values["state-dir"] ?? process.env.GPUPLANE_AGENT_STATE_DIR ?? defaultStateDir();
  return {
    once: Boolean(values.once),
    dryRun: Boolean(values["dry-run"]),
    help: Boolean(values.help),
    version: Boolean(values.version),
    options: {
      server: values.server ?? process.env.GPUPLANE_SERVER,
      token: values.token ?? process.env.GPUPLANE_JOIN_TOKEN,
      stateDir,
      hostname: values.hostname,
      ipAddress: values.ip,
      intervalS: num("interval", 10),
      waitS: num("wait", 30),
      nvidiaSmi: values["nvidia-smi"] ?? "nvidia-smi",
      maxTemperatureC: num("max-temp", 85),
      xidLog: values["xid-log"],
      killGraceMs: num("kill-grace", 10) * 1000,
      drainTimeoutMs: num("drain-timeout", 30) * 1000,
      manageUsers: Boolean(values["manage-users"]),
      maxBatches: 8640,
      runtime,
      runtimeBinary: values["runtime-binary"],
      pull,
      containers: {
        namePrefix: prefix,
        sshPorts: [Number(ports[1]), Number(ports[2])],
        publishIp: values["publish-ip"] ?? "0.0.0.0",
        dataDir: values["data-dir"] ?? `${stateDir}/data`,
        cdiKind: values["cdi-kind"] ?? "nvidia.com/gpu",
        defaultImage: values.image ?? DEFAULT_IMAGE,
        jobImage: values["job-image"] ?? DEFAULT_JOB_IMAGE,
        pidsLimit: num("pids-limit", 4096),
        sshReadyTimeoutMs: num("ssh-ready-timeout", 300) * 1000,
        isolate: isolation === "tenant",
        firewall: !values["no-firewall"],
      },
      log: (message) => process.stderr.write(`${new Date().toISOString()} gpuplane-agent: ${message}\n`),
    },
  };
}

/**
 * `gpuplane agent --server URL --token T [--once] [--dry-run]`. True when the agent stopped to restart into a new
 * file (an upgrade): the caller exits with RESTART_EXIT_CODE.
 */
export async function runAgentCli(args: string[]): Promise<boolean> {
  const { options, once, dryRun, help, version } = parse(args);
  if (help) {
    process.stdout.write(`${usage}\n`);
    return false;
  }
  if (version) {
    process.stdout.write(`gpuplane-agent ${AGENT_VERSION} ${agentSha256() ?? "(sources)"}\n`);
    return false;
  }
  if (dryRun) {
    const found = await discover(options);
    const report = {
      agent_version: AGENT_VERSION,
      host: found.host,
      nvidia_smi_error: found.gpuError,
      gpus: found.samples,
      would_join_with: { ...joinBody(options.token ? "<token>" : "<none>", found.host, found.samples) },
      would_send_heartbeat: { gpus: found.health, gpu_error: found.gpuError },
      would_send_metrics: metricsOf(
        found.samples,
        Object.fromEntries(found.samples.map((s) => [s.uuid, s.index])),
        new Date(),
      ).map((m) => ({ ...m, gpu_id: `<id of GPU ${m.gpu_id}>` })),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return false;
  }
  const agent = new Agent(options);
  await agent.start(once);
  if (once) return false;
  const restart = agent.restartRequested.then(() => true);
  const signalled = new Promise<boolean>((resolve) => {
    const onSignal = (signal: string) => {
      options.log(`${signal}: stopping`);
      void agent.drain().then(
        () => resolve(false),
        (error) => {
          options.log(`drain failed: ${(error as Error).message}`);
          resolve(false);
        },
      );
    };
    process.once("SIGTERM", () => onSignal("SIGTERM"));
    process.once("SIGINT", () => onSignal("SIGINT"));
  });
  return Promise.race([restart, signalled]);
}
