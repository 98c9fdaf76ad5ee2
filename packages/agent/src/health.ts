import type { GpuSample } from "./nvidia-smi.js";

export type GpuHealth = "healthy" | "degraded" | "unhealthy";

/**
 * Xid codes (kernel log `NVRM: Xid (PCI:…): <code>, …`) that mean the GPU cannot be trusted with work until it is
 * reset or replaced, after NVIDIA's Xid catalogue: 48 double-bit ECC, 64 ECC page retirement / row remap failure,
 * 74 NVLink error, 79 fallen off the bus, 94 contained ECC error, 95 uncontained ECC error, 119/120 GSP errors.
 */
export const CRITICAL_XIDS = new Set([48, 64, 74, 79, 94, 95, 119, 120]);

export interface HealthVerdict {
  health: GpuHealth;
  reason: string | null;
}

export interface HealthOptions {
  /** At or above this GPU temperature (°C) the GPU is degraded. */
  maxTemperatureC: number;
}

/**
 * The health rules, worst first:
 * - unhealthy: volatile uncorrected ECC errors > 0; a row-remapping failure; retired pages pending; a critical Xid;
 * - degraded: HW thermal slowdown, HW power-brake slowdown, HW slowdown, SW thermal slowdown, a pending row remap
 *   (a reset is due), or a temperature at or over the threshold;
 * - otherwise healthy. SW power capping (0x4 while busy) is normal under load and not a health signal.
 * Values the driver answers [N/A] / [Not Supported] for are no signal, never a failure.
 */
export function judgeGpu(sample: GpuSample, xids: number[], options: HealthOptions): HealthVerdict {
  const unhealthy: string[] = [];
  if ((sample.eccUncorrectedVolatile ?? 0) > 0) {
    unhealthy.push(`${sample.eccUncorrectedVolatile} volatile uncorrected ECC error(s)`);
  }
  if (sample.remappedRowsFailure) unhealthy.push("row remapping failure");
  if (sample.retiredPagesPending) unhealthy.push("retired pages pending");
  const critical = [...new Set(xids.filter((x) => CRITICAL_XIDS.has(x)))];
  if (critical.length) unhealthy.push(`Xid ${critical.join(", ")}`);
  if (unhealthy.length) return { health: "unhealthy", reason: unhealthy.join("; ") };

  const degraded: string[] = [];
  const throttle = new Set(sample.throttle);
  if (throttle.has("hw_thermal_slowdown")) degraded.push("HW thermal slowdown");
  if (throttle.has("hw_power_brake_slowdown")) degraded.push("HW power brake slowdown");
  if (throttle.has("hw_slowdown") && !throttle.has("hw_thermal_slowdown") && !throttle.has("hw_power_brake_slowdown")) {
    degraded.push("HW slowdown");
  }
  if (throttle.has("sw_thermal_slowdown")) degraded.push("SW thermal slowdown");
  if (sample.remappedRowsPending) degraded.push("row remap pending (reset required)");
  if (sample.temperatureC !== null && sample.temperatureC >= options.maxTemperatureC) {
    degraded.push(`temperature ${sample.temperatureC} C >= ${options.maxTemperatureC} C`);
  }
  if (degraded.length) return { health: "degraded", reason: degraded.join("; ") };
  return { health: "healthy", reason: null };
}

/**
 * Xids from kernel log lines, keyed by PCI bus id as nvidia-smi prints it (upper case, 8-digit domain):
 * `NVRM: Xid (PCI:0000:18:00): 79, pid=…, GPU has fallen off the bus.`
 */
export function parseXids(lines: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of lines.matchAll(/NVRM: Xid \(PCI:([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+)(?:\.\d)?\): (\d+)/g)) {
    const bus = `${m[1].padStart(8, "0")}:${m[2]}:${m[3]}.0`.toUpperCase();
    out.set(bus, [...(out.get(bus) ?? []), Number(m[4])]);
  }
  return out;
}
