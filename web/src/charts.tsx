// Charts as plain SVG, written once: stacked bars (spend or revenue per day, stacked by instance, tenant or model)
// and a heat map (nodes × GPUs). Every drawn point is an element with `data-point`, and a <title> that says what it
// is, so a hover shows the figure and the browser tests can count what was drawn.

import type { ReactNode } from "react";

export interface BarPoint {
  /** The category on the x axis (a day). */
  x: string;
  /** The stack it belongs to (an instance, a tenant, a GPU model). */
  series: string;
  value: number;
  /** Shown on hover; defaults to "series · x: value". */
  title?: string;
}

const palette = ["#4f46e5", "#0891b2", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#0d9488", "#dc2626", "#65a30d"];
const OTHER = "other";

/** Keeps the `keep` largest series and folds the rest into "other", so the legend stays readable. */
function topSeries(points: BarPoint[], keep: number): BarPoint[] {
  const totals = new Map<string, number>();
  for (const p of points) totals.set(p.series, (totals.get(p.series) ?? 0) + p.value);
  const kept = new Set(
    [...totals.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, keep)
      .map(([s]) => s),
  );
  return points.map((p) => (kept.has(p.series) ? p : { ...p, series: OTHER, title: undefined }));
}

export function StackedBars({
  points,
  label,
  format,
  testId,
  height = 180,
  empty = "Nothing to draw yet.",
}: {
  points: BarPoint[];
  label: string;
  format: (value: number) => string;
  testId?: string;
  height?: number;
  empty?: ReactNode;
}) {
  const drawn = topSeries(
    points.filter((p) => p.value > 0),
    8,
  );
  if (!drawn.length) {
    return (
      <p className="empty chart-empty" data-testid={testId}>
        {empty}
      </p>
    );
  }
  const xs = [...new Set(drawn.map((p) => p.x))].sort();
  const series = [...new Set(drawn.map((p) => p.series))];
  const color = (s: string) => (s === OTHER ? "#9ca3af" : palette[series.indexOf(s) % palette.length]);
  const totals = xs.map((x) => drawn.filter((p) => p.x === x).reduce((sum, p) => sum + p.value, 0));
  const max = Math.max(...totals);
  const width = 640;
  const pad = { top: 8, right: 8, bottom: 22, left: 56 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const band = plotW / xs.length;
  const barW = Math.max(2, Math.min(48, band * 0.7));
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const labelEvery = Math.ceil(xs.length / 8);

  return (
    <figure className="chart" data-testid={testId}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} preserveAspectRatio="none">
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={pad.left} x2={width - pad.right} y1={y(max * f)} y2={y(max * f)} className="grid" />
            <text x={pad.left - 6} y={y(max * f) + 4} textAnchor="end" className="axis">
              {format(max * f)}
            </text>
          </g>
        ))}
        {xs.map((x, i) => {
          let base = 0;
          const cx = pad.left + band * i + (band - barW) / 2;
          return (
            <g key={x}>
              {series.map((s) => {
                const value = drawn.filter((p) => p.x === x && p.series === s).reduce((sum, p) => sum + p.value, 0);
                if (value <= 0) return null;
                const top = y(base + value);
                const h = y(base) - top;
                base += value;
                const point = drawn.find((p) => p.x === x && p.series === s);
                return (
                  <rect
                    key={s}
                    data-point=""
                    data-x={x}
                    data-series={s}
                    data-value={value}
                    x={cx}
                    y={top}
                    width={barW}
                    height={Math.max(h, 1)}
                    fill={color(s)}
                  >
                    <title>{(s !== OTHER && point?.title) || `${s} · ${x}: ${format(value)}`}</title>
                  </rect>
                );
              })}
              {i % labelEvery === 0 && (
                <text x={cx + barW / 2} y={height - 6} textAnchor="middle" className="axis">
                  {x.length === 10 ? x.slice(5) : x}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s}>
            <i style={{ background: color(s) }} />
            {s}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

export interface HeatCell {
  label: string;
  /** 0–100, or null when there is no sample. */
  value: number | null;
  state: string;
  title: string;
}

/** Rows (nodes) of cells (GPUs): the fill is utilization, the outline the state (unhealthy, draining). */
export function HeatMap({ rows, testId }: { rows: { label: string; cells: HeatCell[] }[]; testId?: string }) {
  if (!rows.length) {
    return (
      <p className="empty chart-empty" data-testid={testId}>
        No GPUs registered yet.
      </p>
    );
  }
  return (
    <div className="heatmap" data-testid={testId} role="img" aria-label="GPU utilization and state by node">
      {rows.map((row) => (
        <div className="heat-row" key={row.label}>
          <span className="heat-label">{row.label}</span>
          <div className="heat-cells">
            {row.cells.map((cell) => (
              <span
                key={cell.label}
                data-point=""
                data-state={cell.state}
                data-value={cell.value ?? ""}
                className={`heat-cell ${cell.state}`}
                style={{ background: heat(cell.value) }}
                title={cell.title}
              >
                {cell.label}
              </span>
            ))}
          </div>
        </div>
      ))}
      <div className="legend">
        <span>
          <i style={{ background: heat(0) }} />
          0%
        </span>
        <span>
          <i style={{ background: heat(50) }} />
          50%
        </span>
        <span>
          <i style={{ background: heat(100) }} />
          100%
        </span>
        <span>
          <i className="heat-cell unhealthy" />
          unhealthy
        </span>
        <span>
          <i className="heat-cell draining" />
          draining
        </span>
      </div>
    </div>
  );
}

/** White through indigo by utilization; grey when there is no sample. */
function heat(value: number | null): string {
  if (value === null) return "#e5e7eb";
  const t = Math.max(0, Math.min(100, value)) / 100;
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(238, 67)}, ${mix(242, 56)}, ${mix(255, 202)})`;
}

type MetricField = "utilization_pct" | "memory_used_mb";
type MetricSeries = { points: ({ ts: string } & { [F in MetricField]: number | null })[] };

/** One metric of a series (GET /metrics/fleet, /instances/{id}/metrics) per step, as bars over time. */
export function metricPoints(
  series: MetricSeries | undefined,
  field: MetricField,
  name: string,
  format: (value: number) => string,
): BarPoint[] {
  return (series?.points ?? []).flatMap((p) => {
    const value = p[field];
    if (value === null) return [];
    const x = p.ts.slice(11, 16);
    return [{ x, series: name, value, title: `${x} UTC: ${format(value)}` }];
  });
}

export const percent = (value: number) => `${Math.round(value)}%`;
export const megabytes = (value: number) =>
  value >= 1024 ? `${(value / 1024).toFixed(1)} GB` : `${Math.round(value)} MB`;

/** The fleet's average GPU utilization per step (GET /metrics/fleet), drawn as bars over time. */
export function utilizationPoints(series: MetricSeries | undefined) {
  return metricPoints(series, "utilization_pct", "average utilization", percent);
}
