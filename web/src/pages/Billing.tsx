import { humanize, pick, type Row, text, usd, when } from "../format.js";
import { usePagedList, useResource } from "../hooks.js";
import { DataTable, ErrorNote, PageHeader, Pager } from "../ui.js";

export function BillingPage() {
  const balance = useResource<Row>("/billing/balance", 15000);
  const transactions = usePagedList<Row>("/billing/transactions");
  const b = balance.data;

  return (
    <>
      <PageHeader title="Billing" />
      <ErrorNote error={balance.error} />
      {b && (
        <div className="kpis">
          <div className="kpi highlight">
            <span className="kpi-label">Credit balance</span>
            <span className="kpi-value" data-testid="balance">
              {usd(pick(b, "balance_usd", "balance", "balanceUsd"))}
            </span>
          </div>
          {pick(b, "minimum_balance_usd", "min_balance_usd") !== undefined && (
            <div className="kpi">
              <span className="kpi-label">Minimum to launch</span>
              <span className="kpi-value">{usd(pick(b, "minimum_balance_usd", "min_balance_usd"))}</span>
            </div>
          )}
          {pick(b, "burn_rate_usd_per_hour", "hourly_burn_usd") !== undefined && (
            <div className="kpi">
              <span className="kpi-label">Spending now</span>
              <span className="kpi-value">{usd(pick(b, "burn_rate_usd_per_hour", "hourly_burn_usd"))} / hr</span>
            </div>
          )}
        </div>
      )}
      <section>
        <h2>Transactions</h2>
        <ErrorNote error={transactions.error} />
        <DataTable
          testId="transactions"
          rows={transactions.data}
          empty="No transactions yet."
          columns={[
            { label: "Date", render: (t) => when(pick(t, "created_at", "createdAt", "at")) },
            { label: "Type", render: (t) => humanize(text(pick(t, "kind", "type"))) },
            { label: "Description", render: (t) => text(pick(t, "description", "reason", "memo")) },
            {
              label: "Amount",
              render: (t) => {
                const amount = pick(t, "amount_usd", "amount", "amountUsd");
                const negative = String(amount ?? "").startsWith("-");
                return <span className={negative ? "debit" : "credit"}>{usd(amount)}</span>;
              },
            },
            { label: "Balance after", render: (t) => usd(pick(t, "balance_after_usd", "balance_after")) },
          ]}
        />
        <Pager list={transactions} />
      </section>
    </>
  );
}
