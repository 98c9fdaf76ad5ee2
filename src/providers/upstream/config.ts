import { z } from "zod";
import type { UpstreamName } from "./types.js";

const env = z.object({
  GPUPLANE_LAMBDA_API_KEY: z.string().optional(),
  GPUPLANE_LAMBDA_URL: z.string().url().optional(),
  /** Lambda's limits: about one request per second and one launch per 12 s per account (docs/upstreams.md). */
  GPUPLANE_LAMBDA_REQUEST_INTERVAL_MS: z.coerce.number().int().nonnegative().default(1_000),
  GPUPLANE_LAMBDA_LAUNCH_INTERVAL_MS: z.coerce.number().int().nonnegative().default(12_000),
  GPUPLANE_VERDA_CLIENT_ID: z.string().optional(),
  GPUPLANE_VERDA_CLIENT_SECRET: z.string().optional(),
  GPUPLANE_VERDA_URL: z.string().url().optional(),
  GPUPLANE_RUNPOD_API_KEY: z.string().optional(),
  GPUPLANE_RUNPOD_URL: z.string().url().optional(),
  /** RunPod data centers to sell from; stock is read for each. */
  GPUPLANE_RUNPOD_DATA_CENTERS: z.string().default("EU-RO-1,US-KS-2"),
  /** RunPod's Secure or Community Cloud: stock, price and launch all follow it. */
  GPUPLANE_RUNPOD_CLOUD: z.enum(["SECURE", "COMMUNITY"]).default("SECURE"),
  /** E2E Networks: its API key (query `apikey`), auth token (bearer), project and locations (docs/upstreams.md). */
  GPUPLANE_E2E_API_KEY: z.string().optional(),
  GPUPLANE_E2E_AUTH_TOKEN: z.string().optional(),
  GPUPLANE_E2E_PROJECT_ID: z.string().optional(),
  GPUPLANE_E2E_LOCATIONS: z.string().default("Delhi"),
  GPUPLANE_E2E_OS: z.string().default("Ubuntu 22.04"),
  /** Rupees per US dollar for plans E2E prices in INR (set it at or below the rate you are charged, never above). */
  GPUPLANE_E2E_INR_PER_USD: z
    .string()
    .regex(/^\d+(\.\d{1,6})?$/, "must be a decimal number of rupees per US dollar, e.g. 88.5")
    .optional(),
  GPUPLANE_E2E_URL: z.string().url().optional(),
  GPUPLANE_UPSTREAM_TIMEOUT_S: z.coerce.number().positive().default(10),
});

export interface UpstreamCredentials {
  lambda?: { apiKey: string; baseUrl?: string; requestIntervalMs: number; launchIntervalMs: number };
  verda?: { clientId: string; clientSecret: string; baseUrl?: string };
  runpod?: { apiKey: string; baseUrl?: string; cloudType: "SECURE" | "COMMUNITY"; dataCenters: string[] };
  e2e?: {
    apiKey: string;
    authToken: string;
    projectId: string;
    locations: string[];
    os: string;
    inrPerUsd?: string;
    baseUrl?: string;
  };
}

export interface UpstreamConfig {
  credentials: UpstreamCredentials;
  timeoutMs: number;
}

/** Which clouds are resold, from the environment. A cloud without its credential is simply not configured. */
export function upstreamConfig(source: Record<string, string | undefined>): UpstreamConfig {
  const parsed = env.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`configuration: ${issue.path.join(".")}: ${issue.message}`);
  }
  const e = parsed.data;
  const credentials: UpstreamCredentials = {};
  if (e.GPUPLANE_LAMBDA_API_KEY) {
    credentials.lambda = {
      apiKey: e.GPUPLANE_LAMBDA_API_KEY,
      baseUrl: e.GPUPLANE_LAMBDA_URL,
      requestIntervalMs: e.GPUPLANE_LAMBDA_REQUEST_INTERVAL_MS,
      launchIntervalMs: e.GPUPLANE_LAMBDA_LAUNCH_INTERVAL_MS,
    };
  }
  if (e.GPUPLANE_VERDA_CLIENT_ID && e.GPUPLANE_VERDA_CLIENT_SECRET) {
    credentials.verda = {
      clientId: e.GPUPLANE_VERDA_CLIENT_ID,
      clientSecret: e.GPUPLANE_VERDA_CLIENT_SECRET,
      baseUrl: e.GPUPLANE_VERDA_URL,
    };
  }
  if (e.GPUPLANE_RUNPOD_API_KEY) {
    credentials.runpod = {
      apiKey: e.GPUPLANE_RUNPOD_API_KEY,
      baseUrl: e.GPUPLANE_RUNPOD_URL,
      cloudType: e.GPUPLANE_RUNPOD_CLOUD,
      dataCenters: e.GPUPLANE_RUNPOD_DATA_CENTERS.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    };
  }
  if (e.GPUPLANE_E2E_API_KEY && e.GPUPLANE_E2E_AUTH_TOKEN && e.GPUPLANE_E2E_PROJECT_ID) {
    credentials.e2e = {
      apiKey: e.GPUPLANE_E2E_API_KEY,
      authToken: e.GPUPLANE_E2E_AUTH_TOKEN,
      projectId: e.GPUPLANE_E2E_PROJECT_ID,
      locations: e.GPUPLANE_E2E_LOCATIONS.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      os: e.GPUPLANE_E2E_OS,
      inrPerUsd: e.GPUPLANE_E2E_INR_PER_USD,
      baseUrl: e.GPUPLANE_E2E_URL,
    };
  }
  return { credentials, timeoutMs: e.GPUPLANE_UPSTREAM_TIMEOUT_S * 1000 };
}

export type { UpstreamName };
