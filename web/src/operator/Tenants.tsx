import { type FormEvent, useState } from "react";
import { api } from "../api.js";
import { pick, type Row, text, when } from "../format.js";
import { usePagedList } from "../hooks.js";
import { ActionButton, Badge, DataTable, ErrorNote, PageHeader, Pager } from "../ui.js";

export function TenantsPage() {
  const list = usePagedList<Row>("/tenants");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const email = String(form.get("contact_email") ?? "").trim();
    setBusy(true);
    setError(undefined);
    try {
      await api.post("/tenants", {
        name: String(form.get("name") ?? "").trim(),
        gpu_quota: Number(form.get("gpu_quota")),
        plan_tier: String(form.get("plan_tier")),
        billing_mode: String(form.get("billing_mode")),
        ...(email ? { contact_email: email } : {}),
      });
      formElement.reset();
      list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader title="Tenants" />
      <ErrorNote error={list.error} />
      {list.meta?.total !== undefined && <p className="muted">{list.meta.total} tenants</p>}
      <DataTable
        testId="tenants"
        rows={list.data}
        empty="No tenants yet."
        columns={[
          { label: "ID", render: (t) => text(t.id) },
          {
            label: "Name",
            render: (t) => (
              <div>
                <strong>{text(t.name)}</strong>
                <div className="muted small">{text(pick(t, "contact_email"), "")}</div>
              </div>
            ),
          },
          { label: "Plan", render: (t) => text(pick(t, "plan_tier")) },
          { label: "Billing", render: (t) => text(pick(t, "billing_mode")) },
          { label: "GPU quota", render: (t) => text(pick(t, "gpu_quota")) },
          { label: "Status", render: (t) => <Badge value={t.status} /> },
          { label: "Created", render: (t) => when(pick(t, "created_at")) },
          {
            label: "",
            render: (t) => (
              <ActionButton
                done="Granted"
                onClick={async () => {
                  const amount = window.prompt(`Grant how many dollars of credit to ${text(t.name)}?`, "100");
                  if (!amount) return false;
                  await api.post(`/tenants/${encodeURIComponent(String(t.id))}/credits`, {
                    amount_usd: amount.trim(),
                    description: "Granted from the console",
                  });
                }}
              >
                Grant credit
              </ActionButton>
            ),
          },
        ]}
      />
      <Pager list={list} />
      <form onSubmit={create} className="card stack">
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
        <ErrorNote error={error} />
        <div>
          <button type="submit" className="primary" disabled={busy}>
            Add tenant
          </button>
        </div>
      </form>
    </>
  );
}
