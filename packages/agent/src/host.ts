import { availableParallelism, hostname, networkInterfaces, totalmem } from "node:os";

export interface HostFacts {
  hostname: string;
  ipAddress: string | null;
  cpuCores: number;
  ramGb: number;
}

/** The host as node:os sees it; `overrides` come from the command line (e.g. several agents on one test machine). */
export function discoverHost(overrides: { hostname?: string; ipAddress?: string } = {}): HostFacts {
  return {
    hostname: overrides.hostname ?? hostname(),
    ipAddress: overrides.ipAddress ?? primaryAddress(),
    cpuCores: availableParallelism(),
    ramGb: Math.round(totalmem() / 1024 ** 3),
  };
}

/** The first non-internal IPv4 address (else IPv6): what the fleet reaches the node at. */
function primaryAddress(): string | null {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const external = all.filter((a) => !a.internal);
  return (external.find((a) => a.family === "IPv4") ?? external[0])?.address ?? null;
}
