import { useState } from "react";
import { humanize, isScalar, type Row, text, usd } from "../format.js";
import { useResource } from "../hooks.js";
import { DataTable, ErrorNote, KpiGrid, PageHeader } from "../ui.js";

const leakCategories = ["unbilled_allocations", "unmetered_workloads", "uninvoiced_charges", "negative_balances"];

/** GET /api/v1/dashboard (KPIs), /dashboard/revenue and /dashboard/leakage over a chosen window. */
export function DashboardPage() {
  const [days, setDays] = useState(30);
  const kpis = useResource<Row>(`/dashboard?days=${days}`, 30000);
  const revenue = useResource<Row>(`/dashboard/revenue?days=${days}`);
  const leakage = useResource<Row>(`/dashboard/leakage?days=${days}`);
  const { days: _window, ...figures } = kpis.data ?? {};
  const byTenant = Array.isArray(revenue.data?.by_tenant) ? (revenue.data.by_tenant as Row[]) : undefined;
  const byModel = Array.isArray(revenue.data?.by_gpu_model) ? (revenue.data.by_gpu_model as Row[]) : undefined;

  return (
    <>
      <PageHeader title="Dashboard">
        <label className="inline">
          <span className="muted small">Window</span>
          <select value={days} onChange={(e) => setDays(Number(e.target.value))} aria-label="Window">
            {[7, 30, 90].map((d) => (
              <option key={d} value={d}>
                last {d} days
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() => {
            kpis.reload();
            revenue.reload();
            leakage.reload();
          }}
          disabled={kpis.loading}
        >
          Refresh
        </button>
      </PageHeader>
      <ErrorNote error={kpis.error} />
      {kpis.data && <KpiGrid data={figures} testId="kpis" />}

      <section>
        <h2>Revenue {revenue.data ? <span className="muted">· {usd(revenue.data.total_usd)}</span> : null}</h2>
        <ErrorNote error={revenue.error} />
        <div className="grid2">
          <DataTable
            testId="revenue-by-tenant"
            rows={byTenant}
            empty="No usage charged in this window."
            columns={[
              { label: "Tenant", render: (t) => text(t.name ?? t.tenant_id) },
              { label: "Revenue", render: (t) => usd(t.amount_usd) },
            ]}
          />
          {byModel && byModel.length > 0 && (
            <DataTable
              rows={byModel}
              columns={[
                { label: "GPU model", render: (m) => text(m.model) },
                { label: "Revenue", render: (m) => usd(m.amount_usd) },
              ]}
            />
          )}
        </div>
      </section>

      <section>
        <h2>Revenue leakage {leakage.data ? <span className="muted">· {usd(leakage.data.total_usd)}</span> : null}</h2>
        <ErrorNote error={leakage.error} />
        {leakage.data && (
          <div className="kpis" data-testid="leakage">
            {leakCategories
              .filter((k) => leakage.data?.[k] && !isScalar(leakage.data[k]))
              .map((k) => {
                const category = leakage.data![k] as Row;
                return (
                  <div className={`kpi ${Number(category.count) > 0 ? "warn" : ""}`} key={k}>
                    <span className="kpi-label">{humanize(k)}</span>
                    <span className="kpi-value">{usd(category.amount_usd)}</span>
                    <span className="muted small">{text(category.count, "0")} found</span>
                  </div>
                );
              })}
          </div>
        )}
      </section>
    </>
  );
}
