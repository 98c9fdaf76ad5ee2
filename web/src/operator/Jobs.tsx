import { api } from "../api.js";
import { when } from "../format.js";
import { usePagedList, useResource, useSubmit } from "../hooks.js";
import { useTenantNames } from "../pages/Instances.js";
import type { Cluster, Job, Tenant } from "../types.js";
import { ActionButton, Badge, DataTable, ErrorNote, PageHeader, Pager } from "../ui.js";
import { optionalInt } from "./Fleet.js";

const finished = new Set(["completed", "failed", "cancelled"]);

export function JobsPage() {
  const jobs = usePagedList<Job>("/jobs", 15000);
  const clusters = useResource<Cluster[]>("/dashboard/fleet", 60000);
  const tenants = useResource<Tenant[]>("/tenants?limit=200", 60000);
  const tenantName = useTenantNames();
  const clusterName = (id: number) => clusters.data?.find((c) => c.id === id)?.name ?? `cluster ${id}`;

  const submit = useSubmit(async (form, element) => {
    const gpuType = String(form.get("gpu_type") ?? "").trim();
    const image = String(form.get("image") ?? "").trim();
    await api.post("/jobs", {
      cluster_id: Number(form.get("cluster_id")),
      name: String(form.get("name") ?? "").trim(),
      gpu_count: optionalInt(form.get("gpu_count")),
      priority: optionalInt(form.get("priority")),
      tenant_id: optionalInt(form.get("tenant_id")),
      command: String(form.get("command") ?? "").trim(),
      ...(image ? { image } : {}),
      ...(gpuType ? { gpu_type: gpuType } : {}),
      submitted_by: "operator console",
    });
    element.reset();
    jobs.reload();
  });

  const act = (job: Job, path: string, body?: unknown) => async () => {
    await api.post(`/jobs/${job.id}${path}`, body);
    jobs.reload();
  };

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
            render: (j) => {
              return (
                <div>
                  <strong>{j.name}</strong>
                  <div className="muted small">
                    #{j.id} · {clusterName(j.cluster_id)}
                    {j.image ? ` · ${j.image}` : ""}
                  </div>
                  {j.command ? <code className="small">{j.command}</code> : null}
                </div>
              );
            },
          },
          { label: "Tenant", render: (j) => tenantName(j.tenant_id as number | null) },
          { label: "GPUs", render: (j) => `${j.gpu_count}${j.gpu_type ? ` × ${j.gpu_type}` : ""}` },
          { label: "Priority", render: (j) => String(j.priority) },
          {
            label: "Status",
            render: (j) => (
              <div>
                <Badge value={j.status} />
                {j.pending_reason ? (
                  <div className="muted small" data-testid="pending-reason" data-code={j.pending_reason.code}>
                    <strong>{j.pending_reason.code.replace("_", " ")}</strong>: {j.pending_reason.message}
                  </div>
                ) : j.block_reason ? (
                  <div className="muted small">{String(j.block_reason)}</div>
                ) : null}
              </div>
            ),
          },
          { label: "Submitted", render: (j) => when(j.created_at) },
          {
            label: "",
            render: (j) => {
              return (
                <div className="row">
                  {!finished.has(j.status) && (
                    <ActionButton tone="danger" confirm={`Cancel job ${j.name}?`} onClick={act(j, "/cancel")}>
                      Cancel
                    </ActionButton>
                  )}
                  {(j.status === "failed" || j.status === "blocked") && (
                    <ActionButton onClick={act(j, "/status", { status: "queued" })}>Requeue</ActionButton>
                  )}
                </div>
              );
            },
          },
        ]}
      />
      <Pager list={jobs} />
      <form className="card stack" onSubmit={submit.onSubmit}>
        <h2>Submit a job</h2>
        <div className="grid3">
          <label>
            Job name
            <input name="name" required maxLength={200} placeholder="llama-finetune" />
          </label>
          <label>
            Cluster
            <select name="cluster_id" required>
              {(clusters.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Tenant
            <select name="tenant_id" defaultValue="">
              <option value="">— none (not billed) —</option>
              {(tenants.data ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            GPU count
            <input name="gpu_count" type="number" min={1} max={64} defaultValue={1} />
          </label>
          <label>
            GPU model
            <input name="gpu_type" placeholder="any" />
          </label>
          <label>
            Priority
            <input name="priority" type="number" min={1} max={10} defaultValue={5} />
          </label>
          <label>
            Command
            <input name="command" required maxLength={10000} placeholder="python train.py --epochs 3" />
          </label>
          <label>
            Image
            <input name="image" maxLength={500} placeholder="node's default job image" />
          </label>
        </div>
        <ErrorNote error={submit.error} />
        <div>
          <button type="submit" className="primary" disabled={submit.busy || !clusters.data?.length}>
            Submit job
          </button>
        </div>
      </form>
    </>
  );
}
