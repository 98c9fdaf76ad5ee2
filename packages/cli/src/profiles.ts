/**
 * Saved profiles (server URL + API key) in the user's config dir, written with mode 0600 because the file holds
 * keys. `GPUPLANE_URL` and `GPUPLANE_API_KEY` override the profile's values, so CI and scripts need no file.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { UsageError } from "./spec.js";

export interface Profile {
  url: string;
  api_key: string;
}

export interface ConfigFile {
  current?: string;
  profiles: Record<string, Profile>;
}

export interface ResolvedProfile {
  name: string;
  url?: string;
  apiKey?: string;
  /** Where the URL and key came from, for whoami. */
  source: "environment" | "profile" | "none";
  /** The names of all saved profiles, for the message when none fits. */
  saved: string[];
}

export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.GPUPLANE_CONFIG) return env.GPUPLANE_CONFIG;
  if (process.platform === "win32" && env.APPDATA) return join(env.APPDATA, "gpuplane", "config.json");
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "gpuplane", "config.json");
}

export function readConfig(env: NodeJS.ProcessEnv): ConfigFile {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { profiles: {} };
  }
  try {
    const parsed = JSON.parse(text) as ConfigFile;
    return { current: parsed.current, profiles: parsed.profiles ?? {} };
  } catch {
    throw new UsageError(`${path} is not valid JSON; fix it or run gpuplane login again after removing it`);
  }
}

/** Writes the whole file through a temporary one, created 0600, so a crash never leaves a half-written key file. */
export function writeConfig(env: NodeJS.ProcessEnv, config: ConfigFile) {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function resolveProfile(env: NodeJS.ProcessEnv, requested?: string): ResolvedProfile {
  const config = readConfig(env);
  const name = requested ?? env.GPUPLANE_PROFILE ?? config.current ?? "default";
  const saved = config.profiles[name];
  const url = env.GPUPLANE_URL || saved?.url;
  const apiKey = env.GPUPLANE_API_KEY || saved?.api_key;
  const source = env.GPUPLANE_URL || env.GPUPLANE_API_KEY ? "environment" : saved ? "profile" : "none";
  return { name, url, apiKey, source, saved: Object.keys(config.profiles) };
}
