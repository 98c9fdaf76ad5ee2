import { pick, type Row, text, when } from "../format.js";
import { usePagedList, useResource } from "../hooks.js";
import { Badge, DataTable, ErrorNote, PageHeader, Pager } from "../ui.js";

const pct = (value: unknown) => (typeof value === "number" ? `${Math.round(value)}%` : "—");

/** "3 of 8 in use · 1 unhealthy" from a {total, allocated, idle, unhealthy, draining} count. */
function gpuSummary(gpus: unknown, fallbackTotal?: unknown, fallbackUsed?: unknown): string {
  const total = pick(gpus, "total") ?? fallbackTotal;
  const used = pick(gpus, "allocated") ?? fallbackUsed;
  const unhealthy = Number(pick(gpus, "unhealthy") ?? 0);
  const draining = Number(pick(gpus, "draining") ?? 0);
  return [
    used !== undefined ? `${text(used)} of ${text(total)} in use` : text(total),
    unhealthy > 0 ? `${unhealthy} unhealthy` : null,
    draining > 0 ? `${draining} draining` : null,
  ]
    .filter(Boolean)
    .join(" · ");
}

export function FleetPage() {
  const clusters = useResource<Row[]>("/dashboard/fleet", 30000);
  const nodes = usePagedList<Row>("/nodes", 30000);
  const clusterNames = new Map(
    (Array.isArray(clusters.data) ? clusters.data : []).map((c) => [Number(c.id), String(c.name)] as const),
  );
  return (
    <>
      <PageHeader title="Fleet" />
      <section>
        <h2>Clusters</h2>
        <ErrorNote error={clusters.error} />
        <DataTable
          testId="clusters"
          rows={Array.isArray(clusters.data) ? clusters.data : undefined}
          empty="No clusters yet. Create one (POST /api/v1/clusters), then join nodes with the node agent."
          columns={[
            {
              label: "Cluster",
              render: (c) => (
                <div>
                  <strong>{text(c.name)}</strong>
                  <div className="muted small">{text(c.region, "")}</div>
                </div>
              ),
            },
            { label: "Nodes", render: (c) => text(pick(c, "node_count")) },
            { label: "GPUs", render: (c) => gpuSummary(c.gpus) },
            { label: "Utilization", render: (c) => pct(c.utilization_pct) },
          ]}
        />
      </section>
      <section>
        <h2>Nodes</h2>
        <ErrorNote error={nodes.error} />
        <DataTable
          testId="nodes"
          rows={nodes.data}
          empty="No nodes registered. Install the node agent on a GPU host to add one."
          columns={[
            {
              label: "Node",
              render: (n) => (
                <div>
                  <strong>{text(n.hostname)}</strong>
                  <div className="muted small">{text(pick(n, "ip_address"), "")}</div>
                </div>
              ),
            },
            {
              label: "Cluster",
              render: (n) => text(clusterNames.get(Number(n.cluster_id)) ?? pick(n, "cluster_name", "cluster_id")),
            },
            { label: "Status", render: (n) => <Badge value={pick(n, "status", "health")} /> },
            {
              label: "GPUs",
              // gpu_count is what the agent registered; total_gpus what the operator declared before it joined.
              render: (n) => gpuSummary(n.gpus, Number(n.gpu_count) || n.total_gpus, pick(n, "allocated_gpus")),
            },
            {
              label: "CPU / RAM",
              render: (n) => `${text(pick(n, "cpu_cores"))} cores · ${text(pick(n, "ram_gb"))} GB`,
            },
            { label: "Last heartbeat", render: (n) => when(pick(n, "last_heartbeat_at", "last_seen_at")) },
          ]}
        />
        <Pager list={nodes} />
      </section>
    </>
  );
}
