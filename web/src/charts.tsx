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

/** Horizontal grid lines at 0, half and the top of the scale, each labelled on the left. */
function ValueGrid(props: {
  left: number;
  right: number;
  max: number;
  y: (value: number) => number;
  format: (value: number) => string;
}) {
  const { left, right, max, y, format } = props;
  return [0, 0.5, 1].map((f) => (
    <g key={f}>
      <line x1={left} x2={right} y1={y(max * f)} y2={y(max * f)} className="grid" />
      <text x={left - 6} y={y(max * f) + 4} textAnchor="end" className="axis">
        {format(max * f)}
      </text>
    </g>
  ));
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
        <ValueGrid left={pad.left} right={width - pad.right} max={max} y={y} format={format} />
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
  /** Utilization 0–100, or null when there is no sample. */
  value: number | null;
  /** Memory used, 0–100 of the GPU's memory, or null when there is no sample. */
  memory: number | null;
  state: string;
  title: string;
}

/** A GPU someone pays for that does nothing: allocated, sampled, and at 0% utilization. */
export const allocatedButIdle = (cell: Pick<HeatCell, "state" | "value">) =>
  cell.state === "allocated" && cell.value === 0;

/**
 * Rows (nodes) of cells (GPUs): the fill is utilization, the bar at the foot memory used, the outline the state
 * (unhealthy, draining); an allocated GPU at 0% is marked, so capacity that is paid for and idle stands out.
 */
export function HeatMap({ rows, testId }: { rows: { label: string; cells: HeatCell[] }[]; testId?: string }) {
  if (!rows.length) {
    return (
      <p className="empty chart-empty" data-testid={testId}>
        No GPUs registered yet.
      </p>
    );
  }
  return (
    <div className="heatmap" data-testid={testId} role="img" aria-label="GPU utilization, memory and state by node">
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
                data-memory={cell.memory ?? ""}
                data-idle-allocated={allocatedButIdle(cell) ? "" : undefined}
                className={`heat-cell ${cell.state}${allocatedButIdle(cell) ? " idle-allocated" : ""}`}
                style={{ background: heat(cell.value) }}
                title={cell.title}
              >
                <span className="heat-figure">{cell.value === null ? "–" : `${Math.round(cell.value)}%`}</span>
                <span className="heat-index">GPU {cell.label}</span>
                <span className="heat-memory" aria-hidden="true">
                  <i style={{ width: `${Math.max(0, Math.min(100, cell.memory ?? 0))}%` }} />
                </span>
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
        <span>
          <i className="heat-cell idle-allocated" />
          allocated, 0%
        </span>
        <span>bar: memory used</span>
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

export interface LinePoint {
  /** Where on the time axis (ISO time). */
  ts: string;
  /** null: no sample in that step, drawn as a gap; 0 is a sample like any other. */
  value: number | null;
}

/**
 * A metric over time as a line: a sample of 0 is drawn at 0, a step without samples breaks the line (a gap, not a
 * zero). The empty note is shown only when there is no sample at all.
 */
export function LineChart({
  points,
  label,
  format,
  testId,
  max: fixedMax,
  height = 180,
  empty = "Nothing to draw yet.",
}: {
  points: LinePoint[];
  label: string;
  format: (value: number) => string;
  testId?: string;
  /** The top of the scale (100 for a percentage); the largest sample otherwise. */
  max?: number;
  height?: number;
  empty?: ReactNode;
}) {
  const sampled = points.filter((p) => p.value !== null);
  if (!sampled.length) {
    return (
      <p className="empty chart-empty" data-testid={testId}>
        {empty}
      </p>
    );
  }
  const width = 640;
  const pad = { top: 8, right: 8, bottom: 22, left: 56 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = fixedMax ?? Math.max(1, ...sampled.map((p) => p.value as number));
  const step = points.length > 1 ? plotW / (points.length - 1) : 0;
  const x = (i: number) => pad.left + (points.length > 1 ? step * i : plotW / 2);
  const y = (v: number) => pad.top + plotH - (Math.min(v, max) / max) * plotH;
  // One path segment per run of consecutive samples: a missing step lifts the pen.
  const segments: string[] = [];
  let current = "";
  points.forEach((p, i) => {
    if (p.value === null) {
      if (current) segments.push(current);
      current = "";
      return;
    }
    current += `${current ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
  });
  if (current) segments.push(current);
  const labelEvery = Math.max(1, Math.ceil(points.length / 8));

  return (
    <figure className="chart line-chart" data-testid={testId}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label} preserveAspectRatio="none">
        <ValueGrid left={pad.left} right={width - pad.right} max={max} y={y} format={format} />
        {segments.map((d) => (
          <path key={d} d={d} className="line" data-segment="" />
        ))}
        {points.map((p, i) =>
          p.value === null ? null : (
            <circle key={p.ts} data-point="" data-value={p.value} cx={x(i)} cy={y(p.value)} r={2.5} className="dot">
              <title>{`${p.ts.slice(11, 16)} UTC: ${format(p.value)}`}</title>
            </circle>
          ),
        )}
        {points.map((p, i) =>
          i % labelEvery === 0 ? (
            <text key={p.ts} x={x(i)} y={height - 6} textAnchor="middle" className="axis">
              {p.ts.slice(11, 16)}
            </text>
          ) : null,
        )}
      </svg>
    </figure>
  );
}

type MetricField = "utilization_pct" | "memory_used_mb";
type MetricSeries = { points: ({ ts: string } & { [F in MetricField]: number | null })[] };

/**
 * One metric of a series per step as a line. The API answers only the steps that had samples, so a step missing
 * between two answered ones is put back as null: drawn as a gap, never joined over as if the GPU had reported.
 */
export function linePoints(series: MetricSeries | undefined, field: MetricField, stepSeconds: number): LinePoint[] {
  const points: LinePoint[] = [];
  let previous: number | undefined;
  for (const p of series?.points ?? []) {
    const at = Date.parse(p.ts);
    if (previous !== undefined && at - previous > stepSeconds * 1000 * 1.5) {
      points.push({ ts: new Date(previous + stepSeconds * 1000).toISOString(), value: null });
    }
    points.push({ ts: p.ts, value: p[field] });
    previous = at;
  }
  return points;
}

export const percent = (value: number) => `${Math.round(value)}%`;
export const megabytes = (value: number) =>
  value >= 1024 ? `${(value / 1024).toFixed(1)} GB` : `${Math.round(value)} MB`;
