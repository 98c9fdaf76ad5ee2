// CSV export of what a table shows, with exact amounts (micro-dollars), built in the browser.

const cell = (value: unknown) => {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** `columns` are field names of the rows' type, so a field the API renames fails the typecheck here too. */
export function toCsv<T extends object>(rows: readonly T[], columns: (keyof T & string)[]): string {
  return [columns.join(","), ...rows.map((row) => columns.map((c) => cell(row[c])).join(","))].join("\r\n");
}

/** Hands the CSV to the browser as a download named `filename`. */
export function downloadCsv<T extends object>(
  filename: string,
  rows: readonly T[],
  columns: (keyof T & string)[],
): void {
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
