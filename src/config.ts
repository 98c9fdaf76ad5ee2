import { availableParallelism } from "node:os";
import { z } from "zod";
import { usdToMicros } from "./lib/money.js";
import { upstreamConfig } from "./providers/upstream/config.js";

/** Requests per minute per key owner for each endpoint class (seed 000's table, plus classes it does not name). */
export const defaultRateLimits = {
  instance_create: 10,
  instance_action: 30,
  billing: 10,
  read: 120,
  public: 60,
  /** Other customer writes (SSH keys, volumes, webhooks, …); the seed does not name them. */
  write: 60,
  /**
   * Reads by a person in the web console (a session, not an API key): each page asks for several resources and polls
   * the moving ones, so a person clicking through pages needs more than a program's billing or read class.
   */
  console: 600,
  /** Operator and node-agent credentials: fleets push metrics and heartbeats continuously. */
  operator: 60_000,
} as const;
export type RateLimitClass = keyof typeof defaultRateLimits;

const usd = z.string().transform((value, ctx) => {
  try {
    return usdToMicros(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: z.string().optional(),
  GPUPLANE_DATA_DIR: z.string().default("./.gpuplane"),
  GPUPLANE_KEY_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,15}$/, "GPUPLANE_KEY_PREFIX must be lowercase letters, digits and _")
    .default("gpk_"),
  GPUPLANE_ADMIN_KEY: z
    .string()
    .min(16, "GPUPLANE_ADMIN_KEY must be at least 16 characters")
    .max(256)
    .regex(/^\S+$/, "GPUPLANE_ADMIN_KEY must not contain spaces")
    .optional(),
  GPUPLANE_SIGNUP_CREDIT_USD: usd.default(usdToMicros("5")),
  /** The floor of the balance needed to deploy; seed 001's "$20 minimum" is GPUPLANE_MIN_BALANCE_USD=20. */
  GPUPLANE_MIN_BALANCE_USD: usd.default(usdToMicros("0")),
  /** Deploying also needs the price of this first stretch of the chosen type (0 = the floor alone). */
  GPUPLANE_FIRST_STRETCH_MINUTES: z.coerce.number().int().min(0).max(10_080).default(60),
  /** Warn (`billing.auto_stop_warning`, console banner) when the balance covers less than this at the burn rate. */
  GPUPLANE_AUTO_STOP_WARN_MINUTES: z.coerce.number().int().min(0).max(10_080).default(30),
  GPUPLANE_LOW_BALANCE_USD: z.string().default("10,5,1"),
  GPUPLANE_RATE_LIMITS: z.string().optional(),
  GPUPLANE_WORKERS: z.enum(["on", "off"]).default("on"),
  /** Server processes sharing the port (node:cluster): a count, or `auto` for one per core. PostgreSQL only. */
  GPUPLANE_PROCESSES: z
    .string()
    .regex(/^(auto|[1-9][0-9]{0,2})$/, "GPUPLANE_PROCESSES must be a count (1–999) or auto")
    .default("1"),
  GPUPLANE_SIMULATOR: z.enum(["on", "off"]).default("on"),
  GPUPLANE_SIMULATOR_PROVISION_S: z.coerce.number().min(0).default(5),
  GPUPLANE_SIMULATOR_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  GPUPLANE_SCHEDULER_INTERVAL_S: z.coerce.number().positive().default(30),
  GPUPLANE_ALERTS_INTERVAL_S: z.coerce.number().positive().default(30),
  GPUPLANE_METER_INTERVAL_S: z.coerce.number().positive().default(15),
  GPUPLANE_NODE_GRACE_S: z.coerce.number().positive().default(60),
  GPUPLANE_PUBLIC_URL: z.string().url("GPUPLANE_PUBLIC_URL must be a URL, e.g. https://gpus.example.com").optional(),
  /**
   * Container images every node should have besides the catalog's (space or comma separated references): agents with
   * `--pull missing` pull them, and each node reports which it has (docs/agent.md).
   */
  GPUPLANE_NODE_IMAGES: z.string().default(""),
  /** The agent build the server hands out (GET /agent/gpuplane-agent.mjs); default: built from packages/agent at start. */
  GPUPLANE_AGENT_FILE: z.string().optional(),
  REDIS_URL: z.string().optional(),
  /** Namespace for shared rate-limit counters, so deployments (or test runs) sharing one Redis stay apart. */
  GPUPLANE_REDIS_PREFIX: z.string().min(1).default("gpuplane:"),
  /** Behind a reverse proxy: take the client address for anonymous rate limits from X-Forwarded-For. */
  GPUPLANE_TRUST_PROXY: z.enum(["on", "off"]).default("off"),
  /** Let webhooks reach loopback, private and link-local addresses (receivers on the operator's own network). */
  GPUPLANE_WEBHOOK_ALLOW_PRIVATE: z.enum(["on", "off"]).default("off"),
  /** When set, `/metrics` answers only `Authorization: Bearer <this token>` (Prometheus' `bearer_token`). */
  GPUPLANE_METRICS_TOKEN: z.string().min(16, "GPUPLANE_METRICS_TOKEN must be at least 16 characters").optional(),
  /**
   * Bring your own image: the registries a customer's image reference may name (comma-separated hosts, `localhost`
   * for images already on the nodes), and the largest image (GB, checked by the agent after the pull; 0: no limit).
   */
  GPUPLANE_IMAGE_REGISTRIES: z
    .string()
    .regex(/^[a-z0-9.:-]+(,[a-z0-9.:-]+)*$/i, "GPUPLANE_IMAGE_REGISTRIES must be comma-separated registry hosts")
    .default("docker.io,ghcr.io,nvcr.io,quay.io"),
  GPUPLANE_IMAGE_MAX_GB: z.coerce.number().min(0).max(10_000).default(50),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  GPUPLANE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
});

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(source: Record<string, string | undefined> = process.env) {
  // An empty variable (`DATABASE_URL=` in a compose file) means unset, not an empty value.
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const parsed = env.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`configuration: ${issue.path.join(".")}: ${issue.message}`);
  }
  const e = parsed.data;
  const rateLimits = parseRateLimits(e.GPUPLANE_RATE_LIMITS);
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.GPUPLANE_DATA_DIR,
    keyPrefix: e.GPUPLANE_KEY_PREFIX,
    adminKey: e.GPUPLANE_ADMIN_KEY,
    signupCreditMicros: e.GPUPLANE_SIGNUP_CREDIT_USD,
    minBalanceMicros: e.GPUPLANE_MIN_BALANCE_USD,
    firstStretchSeconds: e.GPUPLANE_FIRST_STRETCH_MINUTES * 60,
    autoStopWarnSeconds: e.GPUPLANE_AUTO_STOP_WARN_MINUTES * 60,
    lowBalanceThresholdsMicros: e.GPUPLANE_LOW_BALANCE_USD.split(",")
      .filter(Boolean)
      .map((v) => usdToMicros(v))
      .sort((a, b) => (a > b ? -1 : 1)),
    rateLimits,
    workers: e.GPUPLANE_WORKERS === "on",
    processes: e.GPUPLANE_PROCESSES === "auto" ? availableParallelism() : Number(e.GPUPLANE_PROCESSES),
    simulator: e.GPUPLANE_SIMULATOR === "on",
    simulatorProvisionMs: e.GPUPLANE_SIMULATOR_PROVISION_S * 1000,
    simulatorFailureRate: e.GPUPLANE_SIMULATOR_FAILURE_RATE,
    schedulerIntervalMs: e.GPUPLANE_SCHEDULER_INTERVAL_S * 1000,
    alertsIntervalMs: e.GPUPLANE_ALERTS_INTERVAL_S * 1000,
    meterIntervalMs: e.GPUPLANE_METER_INTERVAL_S * 1000,
    nodeGraceMs: e.GPUPLANE_NODE_GRACE_S * 1000,
    publicUrl: e.GPUPLANE_PUBLIC_URL?.replace(/\/+$/, ""),
    agentFile: e.GPUPLANE_AGENT_FILE,
    nodeImages: e.GPUPLANE_NODE_IMAGES.split(/[\s,]+/).filter(Boolean),
    redisUrl: e.REDIS_URL,
    redisPrefix: e.GPUPLANE_REDIS_PREFIX,
    trustProxy: e.GPUPLANE_TRUST_PROXY === "on",
    webhookAllowPrivate: e.GPUPLANE_WEBHOOK_ALLOW_PRIVATE === "on",
    metricsToken: e.GPUPLANE_METRICS_TOKEN,
    imageRegistries: e.GPUPLANE_IMAGE_REGISTRIES.split(",").map((r) => r.toLowerCase()),
    imageMaxGb: e.GPUPLANE_IMAGE_MAX_GB,
    stripeSecretKey: e.STRIPE_SECRET_KEY,
    stripeWebhookSecret: e.STRIPE_WEBHOOK_SECRET,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.GPUPLANE_MAX_BODY_BYTES,
    /** Resold clouds (Verda, Lambda, RunPod): credentials and base URLs, from GPUPLANE_<CLOUD>_* variables. */
    upstreams: upstreamConfig(present),
  };
}

const rateLimitOverrides = z.partialRecord(
  z.enum(Object.keys(defaultRateLimits) as [RateLimitClass]),
  z.number().int().positive(),
);

/** `GPUPLANE_RATE_LIMITS='{"read":600}'`: per-class overrides of requests per minute; unknown classes are refused. */
function parseRateLimits(text: string | undefined): Record<RateLimitClass, number> {
  const limits: Record<RateLimitClass, number> = { ...defaultRateLimits };
  if (!text) return limits;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('configuration: GPUPLANE_RATE_LIMITS must be a JSON object such as {"read":600}');
  }
  const parsed = rateLimitOverrides.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `configuration: GPUPLANE_RATE_LIMITS${issue.path.length ? `.${issue.path.join(".")}` : ""}: ${issue.message} ` +
        `(classes: ${Object.keys(defaultRateLimits).join(", ")})`,
    );
  }
  return Object.assign(limits, parsed.data);
}
