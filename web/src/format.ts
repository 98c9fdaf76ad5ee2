// Defensive readers and formatters: the console renders what the server sends and never crashes on a missing field.

export type Row = Record<string, unknown>;

/** The first of `names` that the object carries (snake_case and camelCase spellings both work). */
export function pick(row: unknown, ...names: string[]): unknown {
  if (!row || typeof row !== "object") return undefined;
  const r = row as Row;
  for (const name of names) {
    if (r[name] !== undefined && r[name] !== null) return r[name];
  }
  return undefined;
}

export const text = (value: unknown, fallback = "—"): string =>
  value === undefined || value === null || value === "" ? fallback : String(value);

/** Dollars from an exact decimal string or a number; display only, never arithmetic. */
export function usd(value: unknown): string {
  if (value === undefined || value === null || value === "") return "—";
  if (typeof value === "number") return `${value < 0 ? "-" : ""}$${Math.abs(value).toFixed(2)}`;
  const s = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!match) return s;
  const [, sign, whole, fraction = ""] = match;
  // Exact amounts keep their significant digits ("0.001234"), but not trailing zeros past the cents.
  const cents = fraction.replace(/0+$/, "").padEnd(2, "0");
  return `${sign}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${cents}`;
}

export function when(value: unknown): string {
  if (!value) return "—";
  const date = new Date(String(value));
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A compact timestamp for table cells: "Nov 23, 12:32 PM". */
export function short(value: unknown): string {
  if (!value) return "—";
  const date = new Date(String(value));
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
}

/** "gpu_utilization_pct" → "GPU utilization %" for generic KPI cards and table headers. */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z])([A-Z])/g, "$1_$2")
    .split(/[_\s]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  const special: Record<string, string> = {
    gpu: "GPU",
    gpus: "GPUs",
    id: "ID",
    usd: "(USD)",
    pct: "%",
    mb: "MB",
    gb: "GB",
    ip: "IP",
    ssh: "SSH",
    api: "API",
    kpi: "KPI",
    mrr: "MRR",
    arr: "ARR",
  };
  const out = words.map((w) => special[w] ?? w).join(" ");
  return out.charAt(0).toUpperCase() + out.slice(1);
}

export const isScalar = (value: unknown) => value === null || ["string", "number", "boolean"].includes(typeof value);

/** A KPI's value for display: money fields as dollars, percentages with a sign, big numbers grouped. */
export function kpiValue(name: string, value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (/usd|revenue|amount|cost|balance|price|leak/i.test(name) && !/count|pct|percent|rate/i.test(name)) {
    return usd(value);
  }
  if (typeof value === "number") {
    const rounded = Number.isInteger(value) ? value : Math.round(value * 10) / 10;
    return /pct|percent/i.test(name) ? `${rounded}%` : rounded.toLocaleString();
  }
  return String(value);
}
