import { type ReactNode, useState } from "react";
import { errorMessage, isTransient, type PageMeta } from "./api.js";
import { cents, exactUsd, humanize, isScalar, kpiValue, type Row, text } from "./format.js";
import { navigate } from "./hooks.js";

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <a
      href={to}
      className={className}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children ? <div className="actions">{children}</div> : null}
    </header>
  );
}

/**
 * A read's failure. A transient one (rate limited, server busy, unreachable) is being retried by itself: it says so
 * quietly, beside whatever was last shown, instead of replacing the page with an error.
 */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  if (isTransient(error)) {
    return (
      <p className="note warn" role="status">
        Could not load the latest ({errorMessage(error)}); retrying.
      </p>
    );
  }
  return (
    <p className="note error" role="alert">
      {errorMessage(error)}
    </p>
  );
}

const tones: Record<string, string> = {
  running: "green",
  active: "green",
  available: "green",
  healthy: "green",
  online: "green",
  delivered: "green",
  completed: "green",
  succeeded: "green",
  paid: "green",
  ordered: "blue",
  provisioning: "blue",
  queued: "blue",
  pending: "blue",
  scheduled: "blue",
  waiting: "blue",
  starting: "blue",
  stopping: "amber",
  stopped: "amber",
  blocked: "amber",
  degraded: "amber",
  warning: "amber",
  draining: "amber",
  deleting: "gray",
  deleted: "gray",
  inactive: "gray",
  revoked: "gray",
  cancelled: "gray",
  failed: "red",
  lost: "red",
  offline: "red",
  down: "red",
  critical: "red",
  error: "red",
  firing: "red",
  open: "red",
  resolved: "green",
  disabled: "red",
};

export function Badge({ value }: { value: unknown }) {
  const label = text(value, "unknown");
  return <span className={`badge ${tones[label.toLowerCase()] ?? "gray"}`}>{label}</span>;
}

export interface Column<T = Row> {
  label: string;
  render: (row: T) => ReactNode;
}

/** A table of rows; without `columns` it shows the scalar fields of the first row (for responses still taking shape). */
export function DataTable<T extends object = Row>({
  rows,
  columns,
  empty = "Nothing here yet.",
  testId,
}: {
  rows: readonly T[] | undefined;
  columns?: Column<T>[];
  empty?: string;
  testId?: string;
}) {
  if (!rows) return null;
  if (rows.length === 0) return <p className="empty">{empty}</p>;
  const first = rows[0] as Row;
  const cols: Column<T>[] =
    columns ??
    Object.keys(first)
      .filter((k) => isScalar(first[k]))
      .slice(0, 8)
      .map((k) => ({
        label: humanize(k),
        render: (row) => {
          const value = (row as Row)[k];
          return /status|state|severity/.test(k) ? <Badge value={value} /> : text(value);
        },
      }));
  return (
    <div className="table-wrap">
      <table data-testid={testId}>
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c.label}>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={String((row as Row).id ?? i)}>
              {cols.map((c) => (
                <td key={c.label} data-label={c.label}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "Page 2 of 134 · Previous · Next", shown only when a list has more than one page. */
export function Pager({ list }: { list: { page: number; next?: () => void; previous?: () => void; meta?: PageMeta } }) {
  if (!list.next && !list.previous) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <span className="muted small">
        Page {list.page}
        {list.meta?.total !== undefined ? ` · ${list.meta.total} in all` : ""}
      </span>
      <button type="button" onClick={list.previous} disabled={!list.previous}>
        Previous
      </button>
      <button type="button" onClick={list.next} disabled={!list.next}>
        Next
      </button>
    </nav>
  );
}

/** Cards for every scalar field of an object, and a titled group of cards for each nested object. */
export function KpiGrid({ data, testId }: { data: unknown; testId?: string }) {
  if (!data || typeof data !== "object") return null;
  const entries = Object.entries(data as Row);
  const scalars = entries.filter(([, v]) => isScalar(v));
  const groups = entries.filter(([, v]) => v && typeof v === "object" && !Array.isArray(v));
  return (
    <div data-testid={testId}>
      {scalars.length > 0 && (
        <div className="kpis">
          {scalars.map(([k, v]) => (
            <div className="kpi" key={k}>
              <span className="kpi-label">{humanize(k)}</span>
              <span className="kpi-value">{kpiValue(k, v)}</span>
            </div>
          ))}
        </div>
      )}
      {groups.map(([k, v]) => (
        <section key={k} className="kpi-group">
          <h2>{humanize(k)}</h2>
          <KpiGrid data={v} />
        </section>
      ))}
    </div>
  );
}

/** A button that runs an async action, disables itself meanwhile and reports a failure beside it. */
export function ActionButton({
  onClick,
  children,
  tone,
  confirm,
  done,
}: {
  /** Resolves `false` when the user backed out (nothing to report). */
  onClick: () => Promise<unknown>;
  children: ReactNode;
  tone?: "danger" | "primary";
  confirm?: string;
  /** Said beside the button after it worked, for actions whose result shows nowhere else. */
  done?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [succeeded, setSucceeded] = useState(false);
  return (
    <span className="action">
      <button
        type="button"
        className={tone ?? ""}
        disabled={busy}
        onClick={async () => {
          if (confirm && !window.confirm(confirm)) return;
          setBusy(true);
          setError(undefined);
          setSucceeded(false);
          try {
            setSucceeded((await onClick()) !== false);
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        {children}
      </button>
      {error ? <span className="inline-error">{errorMessage(error)}</span> : null}
      {done && succeeded && !error ? <span className="inline-ok">{done}</span> : null}
    </span>
  );
}

/** A secret shown exactly once, with a copy button. */
export function SecretOnce({ label, secret, onDone }: { label: string; secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret" role="status">
      <p>
        <strong>{label}</strong> It is shown once; store it now.
      </p>
      <code data-testid="secret">{secret}</code>
      <div className="row">
        <button
          type="button"
          onClick={() => {
            void navigator.clipboard?.writeText(secret).then(() => setCopied(true));
          }}
        >
          {copied ? "Copied" : "Copy"}
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

/** Money in cents, the exact micro-dollars on hover. */
export function Money({ value, className }: { value: string | null | undefined; className?: string }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  return (
    <span className={className} title={exactUsd(value)} data-exact={value}>
      {cents(value)}
    </span>
  );
}

/** Copies `value` to the clipboard and says so (a command to paste, an id). */
export function CopyButton({ value, label = "Copy" }: { value: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="copy"
      aria-label={label}
      title={label}
      onClick={() => {
        void navigator.clipboard
          ?.writeText(value)
          .then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 2000);
          })
          .catch(() => setCopied(false));
      }}
    >
      {copied ? "Copied" : "Copy"}
    </button>
  );
}
