/**
 * What a command prints: the API's data as JSON with --json (nothing else on stdout, so scripts can parse it), a
 * table or a list of fields otherwise. Messages for people go to stderr when --json is on.
 */
export interface Output {
  json: boolean;
  isTTY: boolean;
  write(text: string): void;
  /** A line for people: stdout normally, stderr under --json so stdout stays pure JSON. */
  note(text: string): void;
  /** `data` as JSON under --json, else what `human` renders. */
  result(data: unknown, human: () => string): void;
}

export function createOutput(json: boolean, stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): Output {
  return {
    json,
    isTTY: Boolean(stdout.isTTY),
    write: (text) => void stdout.write(text),
    note: (text) => void (json ? stderr : stdout).write(`${text}\n`),
    result(data, human) {
      if (json) stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else {
        const text = human();
        if (text) stdout.write(text.endsWith("\n") ? text : `${text}\n`);
      }
    },
  };
}

type Cell = string | number | boolean | null | undefined;

/** A plain, aligned table: `table(rows, [["ID", r => r.id], …])`; "(none)" for no rows. */
export function table<T>(rows: T[], columns: [string, (row: T) => Cell][]): string {
  if (rows.length === 0) return "(none)";
  const cells = rows.map((row) => columns.map(([, get]) => text(get(row))));
  const widths = columns.map(([title], i) => Math.max(title.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(columns.map(([title]) => title)), ...cells.map(line)].join("\n");
}

/** One record as aligned `field  value` lines. */
export function fields(pairs: [string, Cell][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${text(v)}`).join("\n");
}

function text(value: Cell): string {
  if (value === null || value === undefined || value === "") return "-";
  return String(value);
}

/** An exact USD string from the API ("1.290000") for people: "$1.29", keeping digits that matter ("$0.000417"). */
export function usd(value: string | null | undefined): string {
  if (value === null || value === undefined) return "-";
  const negative = value.startsWith("-");
  const [whole, fraction = ""] = value.replace(/^-/, "").split(".");
  const kept = fraction.replace(/0+$/, "").padEnd(2, "0");
  return `${negative ? "-" : ""}$${whole}.${kept}`;
}

/** Seconds as 1h02m03s / 2m05s / 7s. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}h${String(m).padStart(2, "0")}m${String(s % 60).padStart(2, "0")}s`;
  if (m) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** An ISO time as "2026-11-30 10:15" (UTC), short enough for a table. */
export function when(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 16).replace("T", " ")}` : "-";
}
