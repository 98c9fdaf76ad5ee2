// CSV export of what a table shows, with exact amounts (micro-dollars), built in the browser.

export type CsvRow = Record<string, string | number | null | undefined>;

const cell = (value: CsvRow[string]) => {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function toCsv(rows: CsvRow[], columns: string[]): string {
  return [columns.join(","), ...rows.map((row) => columns.map((c) => cell(row[c])).join(","))].join("\r\n");
}

/** Hands the CSV to the browser as a download named `filename`. */
export function downloadCsv(filename: string, rows: CsvRow[], columns: string[]): void {
  const blob = new Blob([`${toCsv(rows, columns)}\r\n`], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
