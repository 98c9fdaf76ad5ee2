import { type FormEvent, useState } from "react";
import { api, request } from "../api.js";
import { type BarPoint, StackedBars } from "../charts.js";
import { downloadCsv } from "../csv.js";
import { cents, dollars, duration, humanize, toMicros, when } from "../format.js";
import { usePagedList, useResource } from "../hooks.js";
import type { Balance, Topup, Transaction, Usage, UsageDay } from "../types.js";
import { DataTable, ErrorNote, Money, PageHeader, Pager } from "../ui.js";

const subjectLabel = (u: UsageDay) => u.name ?? `${u.kind} ${u.id}`;

/** Spend per day, one stack per instance (job, volume): the usage report's per-subject-per-day rows. */
export function spendPoints(usage: Usage | undefined): BarPoint[] {
  return (usage?.by_subject_day ?? []).map((u) => ({
    x: u.day,
    series: subjectLabel(u),
    value: dollars(u.amount_usd),
    title: `${subjectLabel(u)} · ${u.day}: ${cents(u.amount_usd)} (${duration(u.seconds)})`,
  }));
}

function AddCredits({ balance }: { balance: Balance }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  if (!balance.topups_enabled) {
    return (
      <p className="note" data-testid="credit-help">
        Card payments are not set up on this server. To add credit, ask your operator: they grant it from the operator
        console (Tenants → Grant credit) or the API, and it shows here at once.
      </p>
    );
  }
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const amount = String(new FormData(event.currentTarget).get("amount_usd") ?? "").trim();
    setBusy(true);
    setError(undefined);
    try {
      const res = await api.post<Topup>("/billing/topups", { amount_usd: amount });
      // Stripe Checkout takes the payment; the balance updates when its webhook lands.
      if (res.data.checkout_url) window.location.assign(res.data.checkout_url);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="row card" onSubmit={submit}>
      <label className="inline">
        Amount (USD)
        <input name="amount_usd" inputMode="decimal" defaultValue="25" required pattern="\d+(\.\d{1,2})?" />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        Add credits
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

/** Every page of a list, for an export. */
async function allPages<T>(path: string): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | null | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await request<T[]>("GET", `${path}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    rows.push(...res.data);
    if (!res.meta?.has_more) break;
    cursor = res.meta.cursor;
  }
  return rows;
}

export function BillingPage() {
  const balance = useResource<Balance>("/billing/balance", 10000);
  const usage = useResource<Usage>("/billing/usage?days=30", 15000);
  const transactions = usePagedList<Transaction>("/billing/transactions");
  const b = balance.data;
  const byDay = [...(usage.data?.by_subject_day ?? [])].sort((x, y) => (x.day < y.day ? 1 : x.day > y.day ? -1 : 0));

  return (
    <>
      <PageHeader title="Billing" />
      <ErrorNote error={balance.error} />
      {b && (
        <div className="kpis">
          <div className="kpi highlight">
            <span className="kpi-label">Credit balance</span>
            <span className="kpi-value" data-testid="balance" title={b.balance}>
              {cents(b.balance)}
            </span>
          </div>
          <div className="kpi">
            <span className="kpi-label">Spending now</span>
            <span className="kpi-value" data-testid="burn">
              {b.burn_rate_usd_per_hour ? `${cents(b.burn_rate_usd_per_hour)} / h` : "nothing running"}
            </span>
          </div>
          {b.runway_seconds !== null && (
            <div className={`kpi ${b.auto_stop_warning ? "warn" : ""}`}>
              <span className="kpi-label">Auto-stop in about</span>
              <span className="kpi-value">{duration(b.runway_seconds)}</span>
            </div>
          )}
          <div className="kpi">
            <span className="kpi-label">To launch</span>
            <span className="kpi-value small-value">
              {b.first_stretch_minutes > 0 ? `the type's first ${duration(b.first_stretch_minutes * 60)}` : ""}
              {b.minimum_balance_usd > 0 ? ` (at least ${cents(String(b.minimum_balance_usd))})` : ""}
            </span>
          </div>
        </div>
      )}
      {b && <AddCredits balance={b} />}

      <section>
        <h2>
          Spend per day{" "}
          <span className="muted">· last 30 days {usage.data ? `· ${cents(usage.data.total_usd)}` : ""}</span>
        </h2>
        <ErrorNote error={usage.error} />
        {usage.data && (
          <StackedBars
            testId="spend-chart"
            label="Spend per day by instance"
            points={spendPoints(usage.data)}
            format={(v) => `$${v.toFixed(v < 10 ? 2 : 0)}`}
            empty="No usage yet: launch an instance and its spend appears here within a minute."
          />
        )}
      </section>

      <section>
        <div className="section-header">
          <h2>Usage by instance and day</h2>
          <button
            type="button"
            disabled={!byDay.length}
            onClick={() =>
              downloadCsv(
                "gpuplane-usage.csv",
                byDay.map((u) => ({ ...u, name: subjectLabel(u) })),
                ["day", "kind", "id", "name", "seconds", "amount_usd", "amount_micros"],
              )
            }
          >
            Export usage CSV
          </button>
        </div>
        <DataTable
          testId="usage"
          rows={usage.data ? byDay : undefined}
          empty="No usage in the last 30 days."
          columns={[
            { label: "Day", render: (u) => String(u.day) },
            {
              label: "Instance",
              render: (u) => (
                <div>
                  <strong>{subjectLabel(u)}</strong>
                  <div className="muted small">{String(u.kind)}</div>
                </div>
              ),
            },
            { label: "Time", render: (u) => duration(Number(u.seconds)) },
            { label: "Amount", render: (u) => <Money value={String(u.amount_usd)} /> },
          ]}
        />
        {usage.data && byDay.length > 0 && (
          <p className="total-line" data-testid="usage-total">
            Total, last 30 days: <Money value={usage.data.total_usd} />
          </p>
        )}
      </section>

      <section>
        <div className="section-header">
          <h2>Transactions</h2>
          <button
            type="button"
            onClick={async () => {
              const rows = await allPages<Transaction>("/billing/transactions");
              downloadCsv("gpuplane-transactions.csv", rows, [
                "created_at",
                "kind",
                "description",
                "amount_usd",
                "amount_micros",
                "balance_after_usd",
                "balance_after_micros",
                "instance_id",
                "id",
              ]);
            }}
          >
            Export transactions CSV
          </button>
        </div>
        <ErrorNote error={transactions.error} />
        <DataTable
          testId="transactions"
          rows={transactions.data}
          empty="No transactions yet."
          columns={[
            { label: "Date", render: (t) => when(t.created_at) },
            { label: "Type", render: (t) => humanize(String(t.kind)) },
            { label: "Description", render: (t) => String(t.description) },
            {
              label: "Amount",
              render: (t) => (
                <Money
                  value={String(t.amount_usd)}
                  className={toMicros(String(t.amount_usd)) < 0n ? "debit" : "credit"}
                />
              ),
            },
            { label: "Balance after", render: (t) => <Money value={String(t.balance_after_usd)} /> },
          ]}
        />
        <Pager list={transactions} />
      </section>
    </>
  );
}
