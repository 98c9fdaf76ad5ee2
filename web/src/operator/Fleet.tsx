import { useState } from "react";
import { api } from "../api.js";
import { type HeatCell, HeatMap, LineChart, linePoints, percent } from "../charts.js";
import { when } from "../format.js";
import { usePagedList, useResource, useSubmit } from "../hooks.js";
import type { Cluster, FleetNode, FleetSeries, Gpu, JoinToken } from "../types.js";
import { ActionButton, Badge, DataTable, ErrorNote, PageHeader, Pager } from "../ui.js";

const pct = (value: number | null | undefined) => (typeof value === "number" ? `${Math.round(value)}%` : "—");

/** "3 of 8 in use · 1 unhealthy" from a cluster's GPU counts. */
function gpuSummary(gpus: Cluster["gpus"]): string {
  return [
    `${gpus.allocated} of ${gpus.total} in use`,
    gpus.unhealthy > 0 ? `${gpus.unhealthy} unhealthy` : null,
    gpus.draining > 0 ? `${gpus.draining} draining` : null,
  ]
    .filter(Boolean)
    .join(" · ");
}

export const optionalInt = (value: FormDataEntryValue | null) =>
  value && String(value).trim() ? Number(value) : undefined;

/** The nodes × GPUs heat map: fill by the newest utilization sample, outline by state. */
/** Memory used as a share of the GPU's memory, from its latest sample (null without one). */
function memoryShare(g: Gpu): number | null {
  const used = g.latest_metrics?.memory_used_mb;
  const total = g.latest_metrics?.memory_total_mb ?? g.vram_mb;
  return used === null || used === undefined || !total ? null : (used / total) * 100;
}

export function heatRows(gpus: Gpu[]): { label: string; cells: HeatCell[] }[] {
  const byNode = new Map<string, Gpu[]>();
  for (const g of gpus) byNode.set(g.hostname, [...(byNode.get(g.hostname) ?? []), g]);
  return [...byNode.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([hostname, list]) => ({
      label: hostname,
      cells: list
        .sort((a, b) => a.gpu_index - b.gpu_index)
        .map((g) => ({
          label: String(g.gpu_index),
          value: g.latest_metrics?.utilization_pct ?? null,
          memory: memoryShare(g),
          state: g.state,
          title:
            `${hostname} GPU ${g.gpu_index} (${g.model}): ${g.state}, ${pct(g.latest_metrics?.utilization_pct)} busy` +
            `, memory ${pct(memoryShare(g))} used`,
        })),
    }));
}

export function FleetPage() {
  const clusters = useResource<Cluster[]>("/dashboard/fleet", 30000);
  const nodes = usePagedList<FleetNode>("/nodes", 30000);
  const gpus = useResource<Gpu[]>("/gpus?limit=200", 30000);
  const utilization = useResource<FleetSeries>("/metrics/fleet?step=2m", 60000);
  const [editing, setEditing] = useState<Cluster | null>(null);
  const [joinToken, setJoinToken] = useState<JoinToken | null>(null);
  const clusterList = clusters.data ?? [];
  const clusterName = (id: number) => clusterList.find((c) => c.id === id)?.name ?? `cluster ${id}`;
  const reload = () => {
    clusters.reload();
    nodes.reload();
    gpus.reload();
  };

  const addCluster = useSubmit(async (form, element) => {
    const region = String(form.get("region") ?? "").trim();
    await api.post("/clusters", { name: String(form.get("name") ?? "").trim(), ...(region ? { region } : {}) });
    element.reset();
    reload();
  });
  const editCluster = useSubmit(async (form) => {
    if (!editing) return;
    const region = String(form.get("region") ?? "").trim();
    await api.patch(`/clusters/${editing.id}`, {
      name: String(form.get("name") ?? "").trim(),
      region: region || null,
    });
    setEditing(null);
    reload();
  });
  const addNode = useSubmit(async (form, element) => {
    const ip = String(form.get("ip_address") ?? "").trim();
    await api.post("/nodes", {
      cluster_id: Number(form.get("cluster_id")),
      hostname: String(form.get("hostname") ?? "").trim(),
      ...(ip ? { ip_address: ip } : {}),
      total_gpus: optionalInt(form.get("total_gpus")),
      cpu_cores: optionalInt(form.get("cpu_cores")),
      ram_gb: optionalInt(form.get("ram_gb")),
    });
    element.reset();
    reload();
  });

  const nodeAction = (node: FleetNode, action: "cordon" | "drain" | "uncordon" | "upgrade") => async () => {
    await api.post(`/nodes/${node.id}/${action}`);
    reload();
  };

  return (
    <>
      <PageHeader title="Fleet" />
      <section>
        <h2>GPUs by node</h2>
        <ErrorNote error={gpus.error} />
        {gpus.data && <HeatMap testId="gpu-heatmap" rows={heatRows(gpus.data)} />}
      </section>

      <section>
        <h2>Fleet utilization, last hour</h2>
        <ErrorNote error={utilization.error} />
        {utilization.data && (
          <LineChart
            testId="utilization-chart"
            label="Average GPU utilization over the last hour"
            points={linePoints(utilization.data, "utilization_pct", 120)}
            format={percent}
            max={100}
            empty="No GPU metrics in the last hour: the node agents report them every 10 seconds."
          />
        )}
      </section>

      <section>
        <h2>Clusters</h2>
        <ErrorNote error={clusters.error} />
        <DataTable
          testId="clusters"
          rows={clusters.data}
          empty="No clusters yet. Add one below, then add nodes or join GPU hosts with the node agent."
          columns={[
            {
              label: "Cluster",
              render: (c) => {
                return (
                  <div>
                    <strong>{c.name}</strong>
                    <div className="muted small">{c.region ?? ""}</div>
                  </div>
                );
              },
            },
            { label: "Nodes", render: (c) => String(c.node_count) },
            { label: "GPUs", render: (c) => gpuSummary(c.gpus) },
            { label: "Utilization", render: (c) => pct(c.utilization_pct as number | null) },
            {
              label: "",
              render: (c) => {
                return (
                  <div className="row">
                    <button type="button" onClick={() => setEditing(c)}>
                      Edit
                    </button>
                    <ActionButton
                      onClick={async () => {
                        setJoinToken((await api.post<JoinToken>(`/clusters/${c.id}/join-tokens`, {})).data);
                      }}
                    >
                      Join token
                    </ActionButton>
                    <ActionButton
                      tone="danger"
                      confirm={`Delete cluster ${c.name}? It must have no nodes.`}
                      onClick={async () => {
                        await api.del(`/clusters/${c.id}`);
                        reload();
                      }}
                    >
                      Delete
                    </ActionButton>
                  </div>
                );
              },
            },
          ]}
        />
        {joinToken && (
          <div className="secret" role="status" data-testid="join-command">
            <p>
              <strong>On the GPU host, as root, run:</strong> it installs the agent as a service (Node 20 or newer
              needed). The token works once and expires {when(joinToken.expires_at)}.
            </p>
            <code>{joinToken.join_command}</code>
            {joinToken.join_command_warning ? (
              <p className="warning" data-testid="join-command-warning">
                {joinToken.join_command_warning}
              </p>
            ) : null}
            <div className="row">
              <button type="button" onClick={() => void navigator.clipboard?.writeText(joinToken.join_command)}>
                Copy
              </button>
              <button type="button" onClick={() => setJoinToken(null)}>
                Done
              </button>
            </div>
          </div>
        )}
        {editing ? (
          <form className="card stack" onSubmit={editCluster.onSubmit} key={editing.id}>
            <h3>Edit cluster {editing.name}</h3>
            <div className="grid2">
              <label>
                Cluster name
                <input name="name" defaultValue={editing.name} required maxLength={200} />
              </label>
              <label>
                Region
                <input name="region" defaultValue={editing.region ?? ""} maxLength={64} />
              </label>
            </div>
            <ErrorNote error={editCluster.error} />
            <div className="row">
              <button type="submit" className="primary" disabled={editCluster.busy}>
                Save cluster
              </button>
              <button type="button" onClick={() => setEditing(null)}>
                Cancel
              </button>
            </div>
          </form>
        ) : (
          <form className="card stack" onSubmit={addCluster.onSubmit}>
            <h3>Add a cluster</h3>
            <div className="grid2">
              <label>
                Cluster name
                <input name="name" required maxLength={200} placeholder="us-east-a" />
              </label>
              <label>
                Region
                <input name="region" maxLength={64} placeholder="us-east-1" />
              </label>
            </div>
            <ErrorNote error={addCluster.error} />
            <div>
              <button type="submit" className="primary" disabled={addCluster.busy}>
                Add cluster
              </button>
            </div>
          </form>
        )}
      </section>

      <section>
        <h2>Nodes</h2>
        <ErrorNote error={nodes.error} />
        <DataTable
          testId="nodes"
          rows={nodes.data}
          empty="No nodes yet. Add one below, or join a GPU host with a cluster's join token."
          columns={[
            {
              label: "Node",
              render: (n) => {
                return (
                  <div>
                    <strong>{n.hostname}</strong>
                    <div className="muted small">
                      {clusterName(n.cluster_id)}
                      {n.ip_address ? ` · ${n.ip_address}` : ""}
                    </div>
                  </div>
                );
              },
            },
            { label: "Status", render: (n) => <Badge value={n.status} /> },
            {
              label: "GPUs",
              render: (n) => {
                return `${n.allocated_gpus} of ${n.gpu_count || n.total_gpus} in use`;
              },
            },
            {
              label: "CPU / RAM",
              render: (n) => {
                return `${n.cpu_cores ?? "—"} cores · ${n.ram_gb ?? "—"} GB`;
              },
            },
            { label: "Heartbeat", render: (n) => when(n.last_heartbeat_at) },
            {
              label: "Images",
              render: (n) => {
                if (!n.images) return "—";
                const lacking = n.images.catalog.filter((c) => c.state !== "present");
                return (
                  <span
                    data-testid="node-images"
                    title={lacking.map((c) => `${c.oci_ref}: ${c.error ?? c.state}`).join("\n")}
                  >
                    {n.images.catalog.length - lacking.length} of {n.images.catalog.length} present
                    {lacking.some((c) => c.state === "failed" || c.state === "missing") ? (
                      <Badge value="missing" />
                    ) : null}
                    <span className="muted small"> pull {n.images.pull}</span>
                  </span>
                );
              },
            },
            {
              label: "Disk limit",
              render: (n) =>
                n.storage ? (
                  <span data-testid="node-storage" title={n.storage.reason}>
                    {n.storage.disk_limit ? "enforced" : "not enforced"}
                    <span className="muted small">
                      {" "}
                      {n.storage.driver} on {n.storage.backing_fs}
                    </span>
                  </span>
                ) : (
                  "—"
                ),
            },
            {
              label: "Agent",
              render: (n) => (
                <span data-testid="agent-version">
                  {n.agent_version ?? "—"}
                  {n.agent_outdated ? <Badge value="outdated" /> : null}
                  {n.agent_upgrade_requested_at ? <span className="muted small"> upgrading…</span> : null}
                </span>
              ),
            },
            {
              label: "",
              render: (n) => {
                const active = n.status !== "cordoned" && n.status !== "draining";
                return (
                  <div className="row">
                    {active ? (
                      <>
                        <ActionButton onClick={nodeAction(n, "cordon")}>Cordon</ActionButton>
                        <ActionButton onClick={nodeAction(n, "drain")}>Drain</ActionButton>
                      </>
                    ) : (
                      <ActionButton onClick={nodeAction(n, "uncordon")}>Uncordon</ActionButton>
                    )}
                    {n.agent_outdated && !n.agent_upgrade_requested_at ? (
                      <ActionButton onClick={nodeAction(n, "upgrade")}>Upgrade agent</ActionButton>
                    ) : null}
                    <ActionButton
                      tone="danger"
                      confirm={`Delete node ${n.hostname} and its GPUs?`}
                      onClick={async () => {
                        await api.del(`/nodes/${n.id}`);
                        reload();
                      }}
                    >
                      Delete
                    </ActionButton>
                  </div>
                );
              },
            },
          ]}
        />
        <Pager list={nodes} />
        <form className="card stack" onSubmit={addNode.onSubmit}>
          <h3>Add a node</h3>
          <div className="grid3">
            <label>
              Cluster
              <select name="cluster_id" required>
                {clusterList.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Hostname
              <input name="hostname" required placeholder="gpu-node-01" />
            </label>
            <label>
              IP address
              <input name="ip_address" placeholder="10.0.0.11" />
            </label>
            <label>
              GPUs
              <input name="total_gpus" type="number" min={0} max={1024} defaultValue={8} />
            </label>
            <label>
              CPU cores
              <input name="cpu_cores" type="number" min={1} />
            </label>
            <label>
              RAM (GB)
              <input name="ram_gb" type="number" min={1} />
            </label>
          </div>
          <ErrorNote error={addNode.error} />
          <div>
            <button type="submit" className="primary" disabled={addNode.busy || !clusterList.length}>
              Add node
            </button>
          </div>
        </form>
      </section>
    </>
  );
}
