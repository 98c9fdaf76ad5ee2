import { execFile } from "node:child_process";

/**
 * What the agent asks `nvidia-smi --query-gpu` for. Names are the driver's (`nvidia-smi --help-query-gpu`);
 * `clocks_event_reasons.*` is the current name of the older `clocks_throttle_reasons.*`, which drivers before the
 * rename still want, so an unknown field is retried under its old name or, failing that, dropped.
 */
export const QUERY_FIELDS = [
  "index",
  "uuid",
  "name",
  "pci.bus_id",
  "driver_version",
  "memory.total",
  "memory.used",
  "utilization.gpu",
  "temperature.gpu",
  "power.draw",
  "power.limit",
  "ecc.errors.uncorrected.volatile.total",
  "retired_pages.pending",
  "remapped_rows.pending",
  "remapped_rows.failure",
  "clocks_event_reasons.active",
  "clocks_event_reasons.hw_slowdown",
  "clocks_event_reasons.hw_thermal_slowdown",
  "clocks_event_reasons.hw_power_brake_slowdown",
  "clocks_event_reasons.sw_thermal_slowdown",
] as const;

/** One GPU as nvidia-smi reports it. Numbers and flags are null where the driver answers [N/A] or [Not Supported]. */
export interface GpuSample {
  index: number;
  uuid: string;
  name: string;
  busId: string | null;
  driverVersion: string | null;
  memoryTotalMb: number | null;
  memoryUsedMb: number | null;
  utilizationPct: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  eccUncorrectedVolatile: number | null;
  retiredPagesPending: boolean | null;
  remappedRowsPending: boolean | null;
  remappedRowsFailure: boolean | null;
  /** Active clock event reasons by name (hw_thermal_slowdown, …), from the flags or else the bit mask. */
  throttle: string[];
}

/** `[N/A]`, `N/A`, `[Not Supported]`, `[Unknown Error]`, … : the driver has no value for this field on this GPU. */
export function isNoValue(raw: string | undefined): boolean {
  if (raw === undefined) return true;
  const v = raw.trim();
  return v === "" || /^\[.*\]$/.test(v) || v === "N/A";
}

export function parseNumber(raw: string | undefined): number | null {
  if (isNoValue(raw)) return null;
  const n = Number.parseFloat(raw!.trim().replace(/\s*(MiB|W|%|MHz|C|us|ms)$/, ""));
  return Number.isFinite(n) ? n : null;
}

export function parseFlag(raw: string | undefined): boolean | null {
  if (isNoValue(raw)) return null;
  const v = raw!.trim().toLowerCase();
  if (v === "yes" || v === "active" || v === "enabled") return true;
  if (v === "no" || v === "not active" || v === "disabled") return false;
  return null;
}

/** NVML's clock event reason bits (nvml.h nvmlClocksEventReason*), for drivers that answer only the mask. */
const REASON_BITS: [number, string][] = [
  [0x8, "hw_slowdown"],
  [0x20, "sw_thermal_slowdown"],
  [0x40, "hw_thermal_slowdown"],
  [0x80, "hw_power_brake_slowdown"],
];
const REASON_FLAGS = ["hw_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown", "sw_thermal_slowdown"];

/** Parses `--format=csv,noheader,nounits` output for `fields` (values are ", "-separated; names have no commas). */
export function parseQueryCsv(stdout: string, fields: readonly string[]): GpuSample[] {
  const samples: GpuSample[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.trim()) continue;
    const cells = line.split(",").map((c) => c.trim());
    const at = (name: string) => {
      let i = fields.indexOf(name);
      if (i < 0) i = fields.indexOf(name.replace("clocks_event_reasons", "clocks_throttle_reasons"));
      return i < 0 ? undefined : cells[i];
    };
    const index = parseNumber(at("index"));
    const uuid = at("uuid");
    if (index === null || !uuid || isNoValue(uuid)) continue;
    const throttle = new Set<string>();
    for (const flag of REASON_FLAGS) if (parseFlag(at(`clocks_event_reasons.${flag}`))) throttle.add(flag);
    const mask = at("clocks_event_reasons.active");
    if (!isNoValue(mask) && /^0x[0-9a-f]+$/i.test(mask!.trim())) {
      const bits = Number.parseInt(mask!.trim().slice(2).slice(-8), 16);
      for (const [bit, name] of REASON_BITS) if (bits & bit) throttle.add(name);
    }
    samples.push({
      index,
      uuid,
      name: at("name") ?? "unknown GPU",
      busId: isNoValue(at("pci.bus_id")) ? null : at("pci.bus_id")!,
      driverVersion: isNoValue(at("driver_version")) ? null : at("driver_version")!,
      memoryTotalMb: parseNumber(at("memory.total")),
      memoryUsedMb: parseNumber(at("memory.used")),
      utilizationPct: parseNumber(at("utilization.gpu")),
      temperatureC: parseNumber(at("temperature.gpu")),
      powerDrawW: parseNumber(at("power.draw")),
      powerLimitW: parseNumber(at("power.limit")),
      eccUncorrectedVolatile: parseNumber(at("ecc.errors.uncorrected.volatile.total")),
      retiredPagesPending: parseFlag(at("retired_pages.pending")),
      remappedRowsPending: parseFlag(at("remapped_rows.pending")),
      remappedRowsFailure: parseFlag(at("remapped_rows.failure")),
      throttle: [...throttle].sort(),
    });
  }
  return samples.sort((a, b) => a.index - b.index);
}

export class NvidiaSmiError extends Error {
  override name = "NvidiaSmiError";
}

function run(binary: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new NvidiaSmiError(`${binary} not found on PATH (is the NVIDIA driver installed?)`));
        return;
      }
      if (error?.killed) {
        reject(new NvidiaSmiError(`${binary} did not answer within ${timeoutMs} ms`));
        return;
      }
      const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
      resolve({ code: Number.isFinite(code) ? code : 1, stdout: `${stdout}${stderr}` });
    });
  });
}

/** Runs `nvidia-smi --query-gpu=…` and returns one sample per GPU. Remembers which field names this driver knows. */
export class NvidiaSmi {
  readonly binary: string;
  readonly timeoutMs: number;
  private fields: string[] = [...QUERY_FIELDS];

  constructor(binary = "nvidia-smi", timeoutMs = 15_000) {
    this.binary = binary;
    this.timeoutMs = timeoutMs;
  }

  async sample(): Promise<GpuSample[]> {
    for (let attempt = 0; attempt < QUERY_FIELDS.length; attempt++) {
      const args = [`--query-gpu=${this.fields.join(",")}`, "--format=csv,noheader,nounits"];
      const { code, stdout } = await run(this.binary, args, this.timeoutMs);
      if (code === 0) return parseQueryCsv(stdout, this.fields);
      const unknown = /Field "([^"]+)" is not a valid field to query/.exec(stdout)?.[1];
      if (!unknown) throw new NvidiaSmiError(`nvidia-smi exited ${code}: ${stdout.trim().slice(0, 500)}`);
      const older = unknown.replace("clocks_event_reasons", "clocks_throttle_reasons");
      this.fields = this.fields.flatMap((f) => (f !== unknown ? [f] : older !== unknown ? [older] : []));
    }
    throw new NvidiaSmiError("nvidia-smi refused every query field");
  }
}
