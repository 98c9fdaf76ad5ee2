/** GPU model names as gpuplane's catalog spells them, found in an upstream's free-text description. */
const MODELS = ["GH200", "B200", "H200", "H100", "A100", "A6000", "RTX 6000", "L40S", "A10", "V100"] as const;

export function gpuModelOf(description: string): string | null {
  const upper = description.toUpperCase();
  for (const model of MODELS) if (upper.includes(model)) return model;
  if (/RTX\s*6000/.test(upper)) return "RTX 6000";
  return null;
}

/** How the GPU is built into the host, where the cloud's description says: SXM, PCIe or NVL (null when it does not). */
export type GpuFormFactor = "SXM" | "PCIe" | "NVL";

export function gpuFormFactorOf(description: string): GpuFormFactor | null {
  const upper = description.toUpperCase();
  if (/\bNVL/.test(upper)) return "NVL";
  if (/\bSXM/.test(upper)) return "SXM";
  if (/\bPCIE\b/.test(upper)) return "PCIe";
  return null;
}

/** Whole dollars-and-cents per hour (a number or a decimal string) to integer micro-dollars, without float drift. */
export function usdPerHourToMicros(value: number | string): bigint {
  const text = typeof value === "number" ? value.toFixed(6) : value.trim();
  const match = /^(\d+)(?:\.(\d{1,6})\d*)?$/.exec(text);
  if (!match) throw new Error(`not a price: ${value}`);
  return BigInt(match[1]) * 1_000_000n + BigInt((match[2] ?? "").padEnd(6, "0"));
}
