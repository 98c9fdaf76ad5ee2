import { useState } from "react";
import { api } from "../api.js";
import { when } from "../format.js";
import { usePagedList, useResource, useSubmit } from "../hooks.js";
import type { Tenant, TenantSummary } from "../types.js";
import { Badge, DataTable, ErrorNote, Money, PageHeader, Pager } from "../ui.js";

/** GPUs in use of the quota, from the tenant's usage report. */
function QuotaUse({ tenant }: { tenant: Tenant }) {
  const usage = useResource<{ gpus_in_use: number; gpu_quota: number }>(`/tenants/${tenant.id}/usage?days=1`, 30000);
  const used = usage.data?.gpus_in_use;
  return (
    <span data-testid="quota-use">
      {used === undefined ? "…" : used} of {tenant.gpu_quota} GPUs
    </span>
  );
}

/** Grant credit to one tenant: amount and a note that shows in its transactions. */
function GrantForm({ tenant, onDone }: { tenant: Tenant; onDone: (message: string) => void }) {
  const grant = useSubmit(async (form) => {
    const amount = String(form.get("amount_usd") ?? "").trim();
    await api.post(`/tenants/${tenant.id}/credits`, {
      amount_usd: amount,
      description: String(form.get("description") ?? "").trim() || "Granted from the console",
    });
    onDone(`Granted $${amount} to ${tenant.name}.`);
  });
  return (
    <form className="card stack" onSubmit={grant.onSubmit} data-testid="grant-form">
      <h3>Grant credit to {tenant.name}</h3>
      <div className="grid2">
        <label>
          Amount (USD)
          <input name="amount_usd" inputMode="decimal" required pattern="\d+(\.\d{1,6})?" defaultValue="25" />
        </label>
        <label>
          Note
          <input name="description" maxLength={500} placeholder="Granted from the console" />
        </label>
      </div>
      <ErrorNote error={grant.error} />
      <div className="row">
        <button type="submit" className="primary" disabled={grant.busy}>
          Grant
        </button>
        <button type="button" onClick={() => onDone("")}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function TenantsPage() {
  const list = usePagedList<Tenant>("/tenants");
  const summary = useResource<{ tenants: TenantSummary[] }>("/billing/summary?days=30", 30000);
  const [granting, setGranting] = useState<Tenant | null>(null);
  const [granted, setGranted] = useState("");
  const balances = new Map((summary.data?.tenants ?? []).map((t) => [t.tenant_id, t] as const));

  const create = useSubmit(async (form, element) => {
    const email = String(form.get("contact_email") ?? "").trim();
    await api.post("/tenants", {
      name: String(form.get("name") ?? "").trim(),
      gpu_quota: Number(form.get("gpu_quota")),
      plan_tier: String(form.get("plan_tier")),
      billing_mode: String(form.get("billing_mode")),
      ...(email ? { contact_email: email } : {}),
    });
    element.reset();
    list.reload();
  });

  return (
    <>
      <PageHeader title="Tenants" />
      <ErrorNote error={list.error} />
      {granted ? (
        <p className="note ok" role="status" data-testid="granted">
          {granted}
        </p>
      ) : null}
      {granting && (
        <GrantForm
          tenant={granting}
          onDone={(message) => {
            setGranting(null);
            setGranted(message);
            summary.reload();
          }}
        />
      )}
      <DataTable
        testId="tenants"
        rows={list.data}
        empty="No tenants yet."
        columns={[
          {
            label: "Tenant",
            render: (t) => {
              return (
                <div>
                  <strong>{t.name}</strong>
                  <div className="muted small">
                    #{t.id} · {t.contact_email ?? "no email"} · {t.plan_tier}
                  </div>
                </div>
              );
            },
          },
          {
            label: "Balance",
            render: (row) => {
              const s = balances.get(Number(row.id));
              return s ? <Money value={s.balance} /> : <span className="muted">—</span>;
            },
          },
          { label: "Billing", render: (t) => String(t.billing_mode) },
          { label: "Quota use", render: (row) => <QuotaUse tenant={row} /> },
          { label: "Status", render: (t) => <Badge value={t.status} /> },
          { label: "Created", render: (t) => when(t.created_at) },
          {
            label: "",
            render: (row) => (
              <button
                type="button"
                onClick={() => {
                  setGranted("");
                  setGranting(row);
                }}
              >
                Grant credit
              </button>
            ),
          },
        ]}
      />
      <Pager list={list} />
      <form onSubmit={create.onSubmit} className="card stack">
        <h2>Add a tenant</h2>
        <div className="grid2">
          <label>
            Name
            <input name="name" required maxLength={200} />
          </label>
          <label>
            Contact email
            <input name="contact_email" type="email" />
          </label>
          <label>
            GPU quota
            <input name="gpu_quota" type="number" min={1} defaultValue={8} required />
          </label>
          <label>
            Plan
            <select name="plan_tier" defaultValue="starter">
              {["starter", "pro", "growth", "enterprise"].map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
          <label>
            Billing
            <select name="billing_mode" defaultValue="invoiced">
              <option value="invoiced">invoiced (on account)</option>
              <option value="prepaid">prepaid (credits)</option>
            </select>
          </label>
        </div>
        <ErrorNote error={create.error} />
        <div>
          <button type="submit" className="primary" disabled={create.busy}>
            Add tenant
          </button>
        </div>
      </form>
    </>
  );
}
