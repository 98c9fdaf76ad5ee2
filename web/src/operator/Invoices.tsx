import { api } from "../api.js";
import { short } from "../format.js";
import { usePagedList, useResource, useSubmit } from "../hooks.js";
import { useTenantNames } from "../pages/Instances.js";
import type { Invoice, Tenant } from "../types.js";
import { ActionButton, Badge, DataTable, ErrorNote, Money, PageHeader, Pager } from "../ui.js";
import { optionalInt } from "./Fleet.js";

/** Draft invoices from uninvoiced usage (the last `days` days), then open (finalise), void or mark paid. */
export function InvoicesPage() {
  const invoices = usePagedList<Invoice>("/billing/invoices", 30000);
  const tenants = useResource<Tenant[]>("/tenants?limit=200", 60000);
  const tenantName = useTenantNames();

  const generate = useSubmit(async (form) => {
    const made = await api.post<Invoice[]>("/billing/invoices", {
      tenant_id: optionalInt(form.get("tenant_id")),
      days: optionalInt(form.get("days")),
    });
    invoices.reload();
    if (!made.data.length) throw new Error("No uninvoiced usage in that period: no invoice was made.");
  });

  const move = (invoice: Invoice, status: Invoice["status"]) => async () => {
    await api.patch(`/billing/invoices/${invoice.id}`, { status });
    invoices.reload();
  };

  return (
    <>
      <PageHeader title="Invoices" />
      <form className="card stack" onSubmit={generate.onSubmit}>
        <h2>Generate invoices</h2>
        <div className="grid2">
          <label>
            Tenant
            <select name="tenant_id" defaultValue="">
              <option value="">every tenant with usage</option>
              {(tenants.data ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Period (last days)
            <input name="days" type="number" min={1} max={90} defaultValue={30} required />
          </label>
        </div>
        <ErrorNote error={generate.error} />
        <div>
          <button type="submit" className="primary" disabled={generate.busy}>
            Generate
          </button>
        </div>
      </form>
      <ErrorNote error={invoices.error} />
      <DataTable
        testId="invoices"
        rows={invoices.data}
        empty="No invoices yet."
        columns={[
          {
            label: "Invoice",
            render: (i) => {
              return (
                <div>
                  <strong>#{i.id}</strong> {tenantName(i.tenant_id)}
                  <div className="muted small">
                    {short(i.period_start)} – {short(i.period_end)}
                  </div>
                </div>
              );
            },
          },
          { label: "Total", render: (i) => <Money value={String(i.total_usd)} /> },
          { label: "Status", render: (i) => <Badge value={i.status} /> },
          {
            label: "",
            render: (i) => {
              return (
                <div className="row">
                  {i.status === "draft" && <ActionButton onClick={move(i, "open")}>Open</ActionButton>}
                  {i.status === "open" && <ActionButton onClick={move(i, "paid")}>Mark paid</ActionButton>}
                  {(i.status === "draft" || i.status === "open") && (
                    <ActionButton tone="danger" confirm={`Void invoice #${i.id}?`} onClick={move(i, "void")}>
                      Void
                    </ActionButton>
                  )}
                </div>
              );
            },
          },
        ]}
      />
      <Pager list={invoices} />
    </>
  );
}
