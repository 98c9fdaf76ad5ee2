import { useState } from "react";
import { api } from "../api.js";
import { when } from "../format.js";
import { useResource, useSubmit } from "../hooks.js";
import type { AlertEvent, AlertRule } from "../types.js";
import { ActionButton, Badge, DataTable, ErrorNote, PageHeader } from "../ui.js";

const thresholdUnit: Record<AlertRule["type"], string> = {
  utilization_low: "%",
  quota_breach: "% of quota",
  health_degraded: " °C",
  margin_negative: " USD of loss tolerated",
};
const types = Object.keys(thresholdUnit) as AlertRule["type"][];

const numberOrNull = (value: FormDataEntryValue | null) =>
  value === null || String(value).trim() === "" ? null : Number(value);

/** Create a rule, or edit `rule`: name, threshold, window (minutes) and whether it is enabled. */
function RuleForm({ rule, onDone }: { rule?: AlertRule; onDone: () => void }) {
  const form = useSubmit(async (data, element) => {
    const body = {
      name: String(data.get("name") ?? "").trim(),
      threshold: numberOrNull(data.get("threshold")),
      window_seconds: Math.round(Number(data.get("window_minutes")) * 60),
      enabled: data.get("enabled") === "on",
      ...(rule ? {} : { type: String(data.get("type")) }),
    };
    if (rule) await api.patch(`/alerts/rules/${rule.id}`, body);
    else await api.post("/alerts/rules", body);
    element.reset();
    onDone();
  });
  return (
    <form className="card stack" onSubmit={form.onSubmit} key={rule?.id ?? "new"} data-testid="rule-form">
      <h3>{rule ? `Edit rule: ${rule.name}` : "Add a rule"}</h3>
      <div className="grid3">
        <label>
          Rule name
          <input name="name" required maxLength={200} defaultValue={rule?.name} />
        </label>
        {rule ? null : (
          <label>
            Type
            <select name="type">
              {types.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
        )}
        <label>
          Threshold{rule ? ` (${thresholdUnit[rule.type].trim()})` : ""}
          <input name="threshold" type="number" step="any" min={0} defaultValue={rule?.threshold ?? ""} />
        </label>
        <label>
          Window (minutes)
          <input
            name="window_minutes"
            type="number"
            min={0.5}
            step="any"
            required
            defaultValue={rule ? rule.window_seconds / 60 : 5}
          />
        </label>
        <label className="checkbox">
          <input name="enabled" type="checkbox" defaultChecked={rule?.enabled ?? true} />
          Enabled
        </label>
      </div>
      <ErrorNote error={form.error} />
      <div className="row">
        <button type="submit" className="primary" disabled={form.busy}>
          {rule ? "Save rule" : "Add rule"}
        </button>
        {rule ? (
          <button type="button" onClick={onDone}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

export function AlertsPage() {
  const events = useResource<AlertEvent[]>("/alerts/events?limit=100", 30000);
  const rules = useResource<AlertRule[]>("/alerts/rules");
  const [editing, setEditing] = useState<AlertRule | null>(null);
  return (
    <>
      <PageHeader title="Alerts" />
      <p className="muted">Rules are evaluated every 30 seconds: low utilization, quota breach, degraded health.</p>
      <ErrorNote error={events.error} />
      <DataTable
        testId="alerts"
        rows={events.data}
        empty="No alerts have fired."
        columns={[
          { label: "Opened", render: (e) => when(e.opened_at) },
          {
            label: "Alert",
            render: (e) => (
              <div>
                <strong>{String(e.rule_name ?? e.type ?? "")}</strong>
              </div>
            ),
          },
          { label: "Severity", render: (e) => <Badge value={e.severity ?? "warning"} /> },
          { label: "Message", render: (e) => String(e.message ?? "—") },
          {
            label: "Status",
            render: (e) => (
              <div>
                <Badge value={e.status} />
                {e.resolved_at ? <div className="muted small">{when(e.resolved_at)}</div> : null}
              </div>
            ),
          },
        ]}
      />
      <section>
        <h2>Rules</h2>
        <ErrorNote error={rules.error} />
        <DataTable
          testId="alert-rules"
          rows={rules.data}
          empty="No alert rules."
          columns={[
            { label: "Rule", render: (r) => <strong>{String(r.name)}</strong> },
            { label: "Type", render: (r) => String(r.type) },
            {
              label: "Threshold",
              render: (r) => {
                return r.threshold === null ? "—" : `${r.threshold}${thresholdUnit[r.type] ?? ""}`;
              },
            },
            { label: "Window", render: (r) => `${Math.round(Number(r.window_seconds) / 60)} min` },
            { label: "Enabled", render: (r) => <Badge value={r.enabled === false ? "disabled" : "active"} /> },
            {
              label: "",
              render: (r) => {
                return (
                  <div className="row">
                    <button type="button" onClick={() => setEditing(r)}>
                      Edit
                    </button>
                    <ActionButton
                      onClick={async () => {
                        await api.patch(`/alerts/rules/${r.id}`, { enabled: !r.enabled });
                        rules.reload();
                      }}
                    >
                      {r.enabled ? "Disable" : "Enable"}
                    </ActionButton>
                  </div>
                );
              },
            },
          ]}
        />
        {editing ? (
          <RuleForm
            rule={editing}
            onDone={() => {
              setEditing(null);
              rules.reload();
            }}
          />
        ) : (
          <RuleForm onDone={rules.reload} />
        )}
      </section>
    </>
  );
}
