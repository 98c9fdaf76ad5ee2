import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Everything the agent keeps between runs, under one folder (default ~/.gpuplane-agent, or --state-dir):
 *   credentials.json      the node credential and node id (mode 0600)
 *   outbox/<batch>.json   metric batches not yet accepted by the server
 *   jobs/<id>/            job.json (pid, GPUs), output.log, exit_code — so work survives an agent restart
 *   instances/<id>/       instance.json, authorized_keys
 */
export const defaultStateDir = () => join(homedir(), ".gpuplane-agent");

export interface Credentials {
  server: string;
  nodeId: number;
  clusterId: number;
  key: string;
  /** GPU ids by UUID, from the join (and refreshed by each heartbeat): metrics are sent per GPU id. */
  gpuIds: Record<string, number>;
}

export class StateDir {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true, mode: 0o700 });
  }

  path(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  readJson<T>(...parts: string[]): T | undefined {
    const file = this.path(...parts);
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, "utf8")) as T;
    } catch {
      return undefined;
    }
  }

  /** Written to a temporary file and renamed, so a crash never leaves half a file. */
  writeJson(value: unknown, ...parts: string[]): void {
    const file = this.path(...parts);
    mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  list(...parts: string[]): string[] {
    const dir = this.path(...parts);
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  }

  remove(...parts: string[]): void {
    rmSync(this.path(...parts), { recursive: true, force: true });
  }

  credentials(): Credentials | undefined {
    return this.readJson<Credentials>("credentials.json");
  }

  saveCredentials(credentials: Credentials): void {
    this.writeJson(credentials, "credentials.json");
  }
}
