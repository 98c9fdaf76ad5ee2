/**
 * How long each resolution of GPU metrics is kept. Raw samples live in daily partitions and are dropped a partition
 * at a time; roll-ups are deleted by bucket. Read from the environment (GPUPLANE_METRICS_*_RETENTION_DAYS).
 */
export interface MetricsSettings {
  rawRetentionDays: number;
  minuteRetentionDays: number;
  hourRetentionDays: number;
  /** Daily partitions created ahead of today. */
  partitionsAhead: number;
  /** Roll-ups recompute this far behind their mark, so late samples within it are counted. */
  latenessMs: number;
  /** Largest time span one roll-up pass covers, so a long backlog is worked off over several ticks. */
  maxRollupSpanMs: number;
}

const days = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`configuration: ${name} must be a positive number`);
  return value;
};

export function metricsSettings(overrides: Partial<MetricsSettings> = {}): MetricsSettings {
  return {
    rawRetentionDays: days("GPUPLANE_METRICS_RAW_RETENTION_DAYS", 3),
    minuteRetentionDays: days("GPUPLANE_METRICS_MINUTE_RETENTION_DAYS", 30),
    hourRetentionDays: days("GPUPLANE_METRICS_HOUR_RETENTION_DAYS", 400),
    partitionsAhead: 2,
    latenessMs: 5 * 60_000,
    maxRollupSpanMs: 6 * 3600_000,
    ...overrides,
  };
}

export const DAY_MS = 86_400_000;
