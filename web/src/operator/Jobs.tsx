import { pick, type Row, text, when } from "../format.js";
import { usePagedList } from "../hooks.js";
import { Badge, DataTable, ErrorNote, PageHeader, Pager } from "../ui.js";

export function JobsPage() {
  const jobs = usePagedList<Row>("/jobs", 15000);
  return (
    <>
      <PageHeader title="Jobs" />
      <p className="muted">The scheduler assigns idle GPUs to queued jobs by priority (1 is highest) within quotas.</p>
      <ErrorNote error={jobs.error} />
      <DataTable
        testId="jobs"
        rows={jobs.data}
        empty="No jobs."
        columns={[
          {
            label: "Job",
            render: (j) => (
              <div>
                <strong>{text(j.name)}</strong>
                <div className="muted small">#{text(j.id)}</div>
              </div>
            ),
          },
          { label: "Tenant", render: (j) => text(pick(j, "tenant_name", "tenant_id")) },
          { label: "GPUs", render: (j) => `${text(pick(j, "gpu_count"))} ${text(pick(j, "gpu_type"), "")}` },
          { label: "Priority", render: (j) => text(pick(j, "priority")) },
          {
            label: "Status",
            render: (j) => (
              <div>
                <Badge value={j.status} />
                {pick(j, "block_reason") ? <div className="muted small">{text(pick(j, "block_reason"))}</div> : null}
              </div>
            ),
          },
          { label: "Submitted", render: (j) => when(pick(j, "submitted_at", "created_at")) },
        ]}
      />
      <Pager list={jobs} />
    </>
  );
}
