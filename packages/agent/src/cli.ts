import { parseArgs } from "node:util";
import { AGENT_VERSION, Agent, type AgentOptions, discover, joinBody, metricsOf } from "./agent.js";
import { defaultStateDir } from "./state.js";

const usage = `gpuplane agent — joins this GPU host to a gpuplane fleet, reports health and metrics, runs assigned work

  gpuplane-agent --server URL --token TOKEN   join (once) and run; the node credential is kept in the state dir
  gpuplane-agent                              run with the stored credential
  gpuplane-agent --once --dry-run             print what was discovered and would be sent; contacts nothing

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
  --manage-users         when root: create a Linux user per instance (useradd) for SSH access
  --once                 one cycle, then exit`;

function parse(args: string[]): { options: AgentOptions; once: boolean; dryRun: boolean; help: boolean } {
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
      once: { type: "boolean" },
      "dry-run": { type: "boolean" },
      help: { type: "boolean", short: "h" },
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
  return {
    once: Boolean(values.once),
    dryRun: Boolean(values["dry-run"]),
    help: Boolean(values.help),
    options: {
      server: values.server ?? process.env.GPUPLANE_SERVER,
      token: values.token ?? process.env.GPUPLANE_JOIN_TOKEN,
      stateDir: values["state-dir"] ?? process.env.GPUPLANE_AGENT_STATE_DIR ?? defaultStateDir(),
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
      log: (message) => process.stderr.write(`${new Date().toISOString()} gpuplane-agent: ${message}\n`),
    },
  };
}

/** `gpuplane agent --server URL --token T [--once] [--dry-run]` */
export async function runAgentCli(args: string[]): Promise<void> {
  const { options, once, dryRun, help } = parse(args);
  if (help) {
    process.stdout.write(`${usage}\n`);
    return;
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
    return;
  }
  const agent = new Agent(options);
  await agent.start(once);
  if (once) return;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      options.log(`${signal}: stopping`);
      void agent.drain().then(resolve, (error) => {
        options.log(`drain failed: ${(error as Error).message}`);
        resolve();
      });
    };
    process.once("SIGTERM", () => onSignal("SIGTERM"));
    process.once("SIGINT", () => onSignal("SIGINT"));
  });
}
