import { useState } from "react";
import { api } from "../api.js";
import { LineChart, linePoints, megabytes, percent } from "../charts.js";
import { short, text } from "../format.js";
import { usePagedList, useResource } from "../hooks.js";
import type { Instance, InstanceMetrics, Tenant } from "../types.js";
import { ActionButton, Badge, CopyButton, DataTable, ErrorNote, Link, Money, PageHeader, Pager } from "../ui.js";

const gone = new Set(["deleted", "deleting"]);

/** The command to reach a running instance, from the fields it reports. */
export function sshCommand(instance: Instance): string | null {
  if (instance.sshCommand) return instance.sshCommand;
  const { ipAddress: ip, sshUser: user, sshPort: port } = instance;
  if (!ip) return null;
  return `ssh ${port && port !== 22 ? `-p ${port} ` : ""}${user ?? "root"}@${ip}`;
}

/** The instance's GPU utilization and memory over the last hour, where its GPUs are on a fleet that reports them. */
export function InstanceMetricsPanel({ instance }: { instance: Instance }) {
  const metrics = useResource<InstanceMetrics>(`/instances/${encodeURIComponent(instance.id)}/metrics?step=2m`, 30000);
  const empty = "No GPU metrics for this instance in the last hour (its GPUs report them only on a fleet node).";
  return (
    <section data-testid="instance-metrics">
      <h2>GPU utilization and memory of {instance.name}, last hour</h2>
      <ErrorNote error={metrics.error} />
      {metrics.data && (
        <div className="grid2">
          <LineChart
            testId="instance-utilization-chart"
            label={`GPU utilization of ${instance.name}`}
            points={linePoints(metrics.data, "utilization_pct", 120)}
            format={percent}
            max={100}
            empty={empty}
          />
          <LineChart
            testId="instance-memory-chart"
            label={`GPU memory used by ${instance.name}`}
            points={linePoints(metrics.data, "memory_used_mb", 120)}
            format={megabytes}
            empty={empty}
          />
        </div>
      )}
    </section>
  );
}

function InstanceActions({
  instance,
  reload,
  onMetrics,
}: {
  instance: Instance;
  reload: () => void;
  onMetrics: () => void;
}) {
  const id = encodeURIComponent(instance.id);
  const status = instance.status;
  const act = (method: "post" | "del", path: string) => async () => {
    await (method === "post" ? api.post(path) : api.del(path));
    reload();
  };
  if (gone.has(status)) return null;
  return (
    <div className="row">
      {status === "running" && (
        <button type="button" onClick={onMetrics}>
          Metrics
        </button>
      )}
      {status === "running" && <ActionButton onClick={act("post", `/instances/${id}/stop`)}>Stop</ActionButton>}
      {status === "stopped" && <ActionButton onClick={act("post", `/instances/${id}/start`)}>Start</ActionButton>}
      <ActionButton
        tone="danger"
        confirm={`Delete ${text(instance.name, "this instance")}? Its disk is gone for good.`}
        onClick={act("del", `/instances/${id}`)}
      >
        Delete
      </ActionButton>
    </div>
  );
}

/** Tenant id → name, for operator tables (tenants are shown by name everywhere). */
export function useTenantNames(enabled = true): (id: number | null | undefined) => string {
  const tenants = useResource<Tenant[]>(enabled ? "/tenants?limit=200" : null, 60000);
  const names = new Map((tenants.data ?? []).map((t) => [t.id, t.name] as const));
  return (id) => (id === null || id === undefined ? "—" : (names.get(id) ?? `tenant ${id}`));
}

/** A customer's instances; an operator (`operator`) sees every tenant's, with a tenant column and no launch. */
export function InstancesPage({ operator = false }: { operator?: boolean }) {
  const list = usePagedList<Instance>("/instances", 5000);
  const tenantName = useTenantNames(operator);
  const rows = list.data?.filter((i) => i.status !== "deleted");
  const [charted, setCharted] = useState<string>();
  const chartedInstance = rows?.find((i) => i.id === charted);

  return (
    <>
      <PageHeader title="Instances">
        {operator ? null : (
          <Link to="/instances/new" className="button primary">
            Launch instance
          </Link>
        )}
      </PageHeader>
      <ErrorNote error={list.error} />
      <DataTable
        testId="instances"
        rows={rows}
        empty="No instances yet. Launch one to get a GPU in under a minute."
        columns={[
          {
            label: "Name",
            render: (i) => {
              return (
                <div>
                  {operator ? (
                    <strong>{i.name}</strong>
                  ) : (
                    <Link to={`/instances/${encodeURIComponent(i.id)}`}>
                      <strong>{i.name}</strong>
                    </Link>
                  )}
                  <div className="muted small">
                    {operator ? `${tenantName(i.tenantId)} · ` : ""}
                    {short(i.createdAt)}
                  </div>
                </div>
              );
            },
          },
          {
            label: "Type",
            render: (i) => {
              return (
                <div>
                  {i.gpuCount}× {i.gpuType}
                  <div className="muted small">
                    {i.planId} · {i.region}
                  </div>
                </div>
              );
            },
          },
          {
            label: "Status",
            render: (i) => {
              // Why it stopped or failed (auto-stop names the balance and the burn rate).
              const why = i.statusReason && ["stopped", "failed"].includes(i.status) ? i.statusReason : null;
              return (
                <div>
                  <Badge value={i.status} />
                  {why ? (
                    <div className="muted small status-reason" data-testid="status-reason">
                      {why}
                    </div>
                  ) : null}
                </div>
              );
            },
          },
          { label: "Price / h", render: (row) => <Money value={row.pricePerHour} /> },
          {
            label: "Access",
            render: (i) => {
              const command = i.status === "running" ? sshCommand(i) : null;
              return command ? (
                <span className="row">
                  <code className="ssh">{command}</code>
                  <CopyButton value={command} label="Copy the ssh command" />
                </span>
              ) : (
                <span className="muted">—</span>
              );
            },
          },
          {
            label: "",
            render: (i) => (
              <InstanceActions
                instance={i}
                reload={list.reload}
                onMetrics={() => setCharted(charted === i.id ? undefined : i.id)}
              />
            ),
          },
        ]}
      />
      <Pager list={list} />
      {chartedInstance && <InstanceMetricsPanel key={chartedInstance.id} instance={chartedInstance} />}
    </>
  );
}
