import type { Config } from "../../config.js";
import type { ContainerEnvVar, DeclaredPort, PortMapping } from "../../db/schema/index.js";
import { badRequest } from "../../lib/errors.js";

/**
 * What a customer sets for an instance's container beyond the catalog: their own image (bring your own image), its
 * environment (secret values write-only), a start command, the container disk size and the ports to expose.
 */
export interface ContainerSettings {
  /** An OCI image reference the operator's registry policy allows; absent: the catalog image. */
  imageRef?: string | null;
  env?: ContainerEnvVar[];
  command?: string[] | null;
  diskGb?: number | null;
  ports?: DeclaredPort[];
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names gpuplane sets itself: RunPod's PUBLIC_KEY carries the customer's SSH keys, GPUPLANE_* are the agent's. */
const RESERVED_ENV = /^(GPUPLANE_|PUBLIC_KEY$)/;
export const MAX_ENV = 64;
export const MAX_PORTS = 16;

/**
 * [registry/]repository[:tag][@sha256:digest], as the OCI distribution spec names images: lowercase repository
 * components separated by `.`, `_`, `__` or `-`.
 */
const REFERENCE =
  /^(?:([a-zA-Z0-9.-]+(?::[0-9]+)?)\/)?([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@sha256:[a-f0-9]{64})?$/;

/**
 * The registry an image reference pulls from, as Docker and Podman read it: the first component when it looks like a
 * host (has a dot or a port, or is `localhost`), else Docker Hub.
 */
export function registryOf(ref: string): string {
  const slash = ref.indexOf("/");
  if (slash < 0) return "docker.io";
  const first = ref.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost") {
    return first.toLowerCase() === "index.docker.io" ? "docker.io" : first.toLowerCase();
  }
  return "docker.io";
}

/** 400 unless `ref` is a well-formed image reference from a registry the operator allows (GPUPLANE_IMAGE_REGISTRIES). */
export function assertImageAllowed(config: Pick<Config, "imageRegistries">, ref: string, field = "image"): void {
  if (ref.length > 512 || !REFERENCE.test(ref)) {
    throw badRequest(
      `${field} '${ref.slice(0, 200)}' is not an image reference (e.g. "ghcr.io/org/app:1.2" or "pytorch/pytorch:latest")`,
    );
  }
  const registry = registryOf(ref);
  const host = registry.replace(/:\d+$/, "");
  const allowed = config.imageRegistries;
  if (!allowed.includes(registry) && !allowed.includes(host)) {
    throw badRequest(
      `${field} '${ref}' is from registry ${registry}, which this cloud does not allow; allowed registries: ${allowed.join(", ") || "none"}`,
      { registry, allowed_registries: allowed },
    );
  }
}

/** Checks the settings' own rules (names, ports, disk within the type's); throws 400 naming the field. */
export function checkContainerSettings(
  settings: ContainerSettings,
  typeDiskGb: number | null,
  fields: { env?: string; ports?: string; diskGb?: string; command?: string } = {},
): void {
  const f = { env: "env", ports: "ports", diskGb: "disk_gb", command: "command", ...fields };
  const env = settings.env ?? [];
  if (env.length > MAX_ENV) throw badRequest(`${f.env}: at most ${MAX_ENV} variables`);
  const names = new Set<string>();
  for (const v of env) {
    if (!ENV_NAME.test(v.name)) {
      throw badRequest(`${f.env}: '${v.name.slice(0, 64)}' is not a variable name (letters, digits and _)`);
    }
    if (RESERVED_ENV.test(v.name))
      throw badRequest(`${f.env}: ${v.name} is set by gpuplane itself; choose another name`);
    if (names.has(v.name)) throw badRequest(`${f.env}: ${v.name} is given twice`);
    names.add(v.name);
  }
  const ports = settings.ports ?? [];
  if (ports.length > MAX_PORTS) throw badRequest(`${f.ports}: at most ${MAX_PORTS} ports`);
  const seen = new Set<number>();
  for (const p of ports) {
    if (p.port === 22) throw badRequest(`${f.ports}: port 22 is SSH's, which every instance has already`);
    if (seen.has(p.port)) throw badRequest(`${f.ports}: port ${p.port} is given twice`);
    seen.add(p.port);
  }
  if (settings.command && settings.command.length === 0) throw badRequest(`${f.command}: give at least the program`);
  const disk = settings.diskGb;
  if (disk !== null && disk !== undefined && typeDiskGb !== null && disk > typeDiskGb) {
    throw badRequest(`${f.diskGb}: ${disk} GB is more than the instance type's ${typeDiskGb} GB disk`);
  }
}

/** Whether the settings ask for more than a catalog launch (what only some upstream clouds can carry). */
export function containerAsks(s: {
  imageRef?: string | null;
  env?: unknown[];
  command?: string[] | null;
  ports?: unknown[];
}): string[] {
  const asks: string[] = [];
  if (s.imageRef) asks.push("own images");
  if (s.env?.length) asks.push("environment variables");
  if (s.command?.length) asks.push("start commands");
  if (s.ports?.length) asks.push("ports");
  return asks;
}

/** The API's view of env: a secret's value never leaves the server. */
export const envView = (env: ContainerEnvVar[]) =>
  env.map((v) => ({ name: v.name, value: v.secret ? null : v.value, secret: v.secret }));

/** Each declared port with where it answers once running: `http://host:port` for http, `host:port` for tcp. */
export function portsView(ports: DeclaredPort[], mappings: PortMapping[], running: boolean) {
  return ports.map((p) => {
    const m = running ? mappings.find((x) => x.port === p.port && x.protocol === p.protocol) : undefined;
    const address = m ? `${m.host}:${m.hostPort}` : null;
    return {
      port: p.port,
      protocol: p.protocol,
      host_port: m?.hostPort ?? null,
      address,
      url: m ? (m.url ?? (p.protocol === "http" ? `http://${address}` : null)) : null,
    };
  });
}
