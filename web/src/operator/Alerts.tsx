import { pick, type Row, text, when } from "../format.js";
import { useResource } from "../hooks.js";
import { Badge, DataTable, ErrorNote, PageHeader } from "../ui.js";

const thresholdUnit: Record<string, string> = {
  utilization_low: "%",
  quota_breach: "% of quota",
  health_degraded: " °C",
};

export function AlertsPage() {
  const events = useResource<Row[]>("/alerts/events?limit=100", 30000);
  const rules = useResource<Row[]>("/alerts/rules");
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
          { label: "Opened", render: (e) => when(pick(e, "opened_at", "created_at", "triggered_at")) },
          {
            label: "Alert",
            render: (e) => (
              <div>
                <strong>{text(pick(e, "rule_name", "type"))}</strong>
                <div className="muted small">{text(pick(e, "subject"), "")}</div>
              </div>
            ),
          },
          { label: "Severity", render: (e) => <Badge value={pick(e, "severity") ?? "warning"} /> },
          { label: "Message", render: (e) => text(pick(e, "message", "description")) },
          {
            label: "Status",
            render: (e) => (
              <div>
                <Badge value={pick(e, "status")} />
                {pick(e, "resolved_at") ? <div className="muted small">{when(pick(e, "resolved_at"))}</div> : null}
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
            { label: "Rule", render: (r) => <strong>{text(r.name)}</strong> },
            { label: "Type", render: (r) => text(r.type) },
            {
              label: "Threshold",
              render: (r) =>
                r.threshold === null || r.threshold === undefined
                  ? "—"
                  : `${r.threshold}${thresholdUnit[String(r.type)] ?? ""}`,
            },
            {
              label: "Window",
              render: (r) => (typeof r.window_seconds === "number" ? `${Math.round(r.window_seconds / 60)} min` : "—"),
            },
            { label: "Enabled", render: (r) => <Badge value={r.enabled === false ? "disabled" : "active"} /> },
          ]}
        />
      </section>
    </>
  );
}
