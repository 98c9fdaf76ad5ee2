import { useState } from "react";
import { HeatMap, StackedBars } from "../charts.js";
import { cents, dollars, humanize, isScalar, type Row, text, usd } from "../format.js";
import { useResource } from "../hooks.js";
import type { Gpu, Revenue } from "../types.js";
import { DataTable, ErrorNote, KpiGrid, Money, PageHeader } from "../ui.js";
import { heatRows } from "./Fleet.js";

const leakCategories = ["unbilled_allocations", "unmetered_workloads", "uninvoiced_charges", "negative_balances"];

/** GET /api/v1/dashboard (KPIs), /dashboard/revenue and /dashboard/leakage over a chosen window. */
export function DashboardPage() {
  const [days, setDays] = useState(30);
  const kpis = useResource<Row>(`/dashboard?days=${days}`, 30000);
  const revenue = useResource<Revenue & Row>(`/dashboard/revenue?days=${days}`);
  const gpus = useResource<Gpu[]>("/gpus?limit=200", 30000);
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
        <h2>
          Revenue{" "}
          {revenue.data ? (
            <span className="muted">
              · <Money value={revenue.data.total_usd} />
            </span>
          ) : null}
        </h2>
        <ErrorNote error={revenue.error} />
        {revenue.data && (
          <StackedBars
            testId="revenue-chart"
            label="Revenue per day by GPU model"
            points={(revenue.data.by_day_gpu_model ?? []).map((d) => ({
              x: d.day,
              series: d.model,
              value: dollars(d.amount_usd),
              title: `${d.model} · ${d.day}: ${cents(d.amount_usd)}`,
            }))}
            format={(v) => `$${v.toFixed(v < 10 ? 2 : 0)}`}
            empty="No revenue in this window yet."
          />
        )}
        <div className="grid2">
          <DataTable
            testId="revenue-by-tenant"
            rows={byTenant}
            empty="No usage charged in this window."
            columns={[
              { label: "Tenant", render: (t) => text(t.name ?? t.tenant_id) },
              { label: "Revenue", render: (t) => <Money value={String(t.amount_usd)} /> },
            ]}
          />
          {byModel && byModel.length > 0 && (
            <DataTable
              rows={byModel}
              columns={[
                { label: "GPU model", render: (m) => text(m.model) },
                { label: "Revenue", render: (m) => <Money value={String(m.amount_usd)} /> },
              ]}
            />
          )}
        </div>
      </section>

      <section>
        <h2>GPUs by node</h2>
        <ErrorNote error={gpus.error} />
        {gpus.data && <HeatMap testId="gpu-heatmap" rows={heatRows(gpus.data)} />}
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
