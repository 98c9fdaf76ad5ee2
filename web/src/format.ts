// Defensive readers and formatters: the console renders what the server sends and never crashes on a missing field.

export type Row = Record<string, unknown>;

export const text = (value: unknown, fallback = "—"): string =>
  value === undefined || value === null || value === "" ? fallback : String(value);

/** Dollars from an exact decimal string or a number, shown in cents (Money shows the exact amount on hover). */
export function usd(value: unknown): string {
  if (value === undefined || value === null || value === "") return "—";
  if (typeof value === "number") return `${value < 0 ? "-" : ""}$${Math.abs(value).toFixed(2)}`;
  const s = String(value);
  return /^-?\d+(\.\d+)?$/.test(s) ? cents(s) : s;
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

/** Micro-dollars (an integer) from an exact decimal dollar string ("-0.453417" → -453417n). */
export function toMicros(value: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{0,6}))?/.exec(value.trim());
  if (!match) return 0n;
  const [, sign, whole, fraction = ""] = match;
  const micros = BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, "0"));
  return sign ? -micros : micros;
}

/** Money as the console shows it: cents, rounded half away from zero from the exact amount ("$0.45"). */
export function cents(value: string | bigint | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const micros = typeof value === "bigint" ? value : toMicros(value);
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const c = (abs + 5_000n) / 10_000n;
  const whole = (c / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative && c > 0n ? "-" : ""}$${whole}.${(c % 100n).toString().padStart(2, "0")}`;
}

/** The exact amount for a hover: "$0.453417 (453,417 µ$)". */
export function exactUsd(value: string | bigint): string {
  const micros = typeof value === "bigint" ? value : toMicros(value);
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const text = `${negative ? "-" : ""}$${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, "0")}`;
  return `${text} (${micros.toLocaleString()} µ$)`;
}

/** Dollars as a number, for chart geometry only (never for sums shown as money). */
export const dollars = (value: string) => Number(toMicros(value)) / 1e6;

/** "3 h 20 min" from seconds. */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}
