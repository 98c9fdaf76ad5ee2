import { useState } from "react";
import { api } from "../api.js";
import { duration, short, text } from "../format.js";
import { usePagedList, useResource } from "../hooks.js";
import type { Instance, InstanceEvent, Usage, Volume } from "../types.js";
import { ActionButton, Badge, CopyButton, DataTable, ErrorNote, Link, Money, PageHeader, Pager } from "../ui.js";
import { InstanceLogsPanel } from "./InstanceLogs.js";
import { InstanceMetricsPanel, sshCommand } from "./Instances.js";
import { InstanceTerminal } from "./Terminal.js";

/** The billing report's window: usage older than this is not in it. */
const usageDays = 90;
const dayMs = 86_400_000;

/** What one event says happened, in words. */
function describe(event: InstanceEvent, volumeName: (id: string) => string): string {
  if (event.type === "volume.attached" && event.volume_id) return `Volume ${volumeName(event.volume_id)} attached`;
  if (event.type === "volume.detached" && event.volume_id) return `Volume ${volumeName(event.volume_id)} detached`;
  if (event.status) return event.previous_status ? `${event.previous_status} → ${event.status}` : event.status;
  return event.type;
}

/** What the instance has been charged: its line of the billing report (metered usage, exact micro-dollars). */
function CostSoFar({ instance }: { instance: Instance }) {
  const usage = useResource<Usage>(`/billing/usage?days=${usageDays}`, 60000);
  const item = usage.data?.items.find((i) => i.kind === "instance" && i.id === instance.id);
  const older = Date.now() - Date.parse(instance.createdAt) > usageDays * dayMs;
  return (
    <div className="kpi" data-testid="instance-cost">
      <span className="kpi-label">{older ? `Cost, last ${usageDays} days` : "Cost so far"}</span>
      <span className="kpi-value">{usage.data ? <Money value={item?.amount_usd ?? "0"} /> : "…"}</span>
      <span className="muted small">
        {item ? `${duration(item.seconds)} billed` : usage.data ? "nothing billed yet" : ""}
        {" · "}
        <Money value={instance.pricePerHour} />
        /h
      </span>
      <ErrorNote error={usage.error} />
    </div>
  );
}

/** Volumes attached to the instance (detach), and the tenant's free volumes of its region (attach). */
function InstanceVolumes({ instance, reload }: { instance: Instance; reload: () => void }) {
  const volumes = useResource<Volume[]>("/volumes?limit=200", 10000);
  const [chosen, setChosen] = useState("");
  const id = encodeURIComponent(instance.id);
  const attached = (volumes.data ?? []).filter((v) => instance.volumeIds.includes(v.id));
  const free = (volumes.data ?? []).filter(
    (v) => v.instance_id === null && v.region === instance.region && v.status === "available",
  );
  const live = !["deleting", "deleted", "failed", "lost"].includes(instance.status);
  return (
    <section data-testid="instance-volumes">
      <h2>Volumes</h2>
      <ErrorNote error={volumes.error} />
      <DataTable
        rows={volumes.data ? attached : undefined}
        empty={`No volumes attached. Volumes in ${instance.region} can be attached here or on the Volumes page.`}
        columns={[
          { label: "Name", render: (v) => <strong>{v.name}</strong> },
          { label: "Size", render: (v) => `${v.size_gb} GB ${v.type.toUpperCase()}` },
          { label: "Status", render: (v) => <Badge value={v.status} /> },
          {
            label: "",
            render: (v) => (
              <ActionButton
                onClick={async () => {
                  await api.del(`/instances/${id}/volumes/${encodeURIComponent(v.id)}`);
                  volumes.reload();
                  reload();
                }}
              >
                Detach
              </ActionButton>
            ),
          },
        ]}
      />
      {live && free.length > 0 && (
        <div className="row">
          <label>
            Attach a volume
            <select value={chosen} onChange={(e) => setChosen(e.target.value)}>
              <option value="">Choose…</option>
              {free.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.name} ({v.size_gb} GB)
                </option>
              ))}
            </select>
          </label>
          <ActionButton
            onClick={async () => {
              if (!chosen) throw new Error("choose a volume first");
              await api.post(`/instances/${id}/volumes`, { volume_id: chosen });
              setChosen("");
              volumes.reload();
              reload();
            }}
          >
            Attach
          </ActionButton>
        </div>
      )}
    </section>
  );
}

/** One instance: what it is, how to reach it, what it costs, its GPUs over the last hour, volumes and history. */
export function InstancePage({ id }: { id: string }) {
  const path = `/instances/${encodeURIComponent(id)}`;
  const instance = useResource<Instance>(path, 5000);
  const events = usePagedList<InstanceEvent>(`${path}/events`, 5000);
  const volumes = useResource<Volume[]>("/volumes?limit=200", 10000);
  const i = instance.data;
  if (!i) {
    return (
      <>
        <PageHeader title="Instance">
          <Link to="/instances" className="button">
            All instances
          </Link>
        </PageHeader>
        {instance.error ? <ErrorNote error={instance.error} /> : <p className="loading">Loading…</p>}
      </>
    );
  }
  const command = i.status === "running" ? sshCommand(i) : null;
  const volumeName = (volumeId: string) => volumes.data?.find((v) => v.id === volumeId)?.name ?? volumeId;
  const why = i.statusReason && ["stopped", "failed", "lost"].includes(i.status) ? i.statusReason : null;
  return (
    <>
      <PageHeader title={i.name}>
        {i.status === "running" && (
          <ActionButton
            onClick={async () => {
              await api.post(`${path}/stop`);
              instance.reload();
            }}
          >
            Stop
          </ActionButton>
        )}
        {i.status === "stopped" && (
          <ActionButton
            onClick={async () => {
              await api.post(`${path}/start`);
              instance.reload();
            }}
          >
            Start
          </ActionButton>
        )}
        <Link to="/instances" className="button">
          All instances
        </Link>
      </PageHeader>
      <ErrorNote error={instance.error} />
      <div className="kpis" data-testid="instance-summary">
        <div className="kpi">
          <span className="kpi-label">Status</span>
          <span className="kpi-value">
            <Badge value={i.status} />
          </span>
          {why ? <span className="muted small status-reason">{why}</span> : null}
        </div>
        <div className="kpi">
          <span className="kpi-label">GPUs</span>
          <span className="kpi-value">
            {i.gpuCount}× {i.gpuType}
          </span>
          <span className="muted small">
            {i.planId} · {i.region} · {i.templateSlug}
          </span>
        </div>
        <CostSoFar instance={i} />
        <div className="kpi">
          <span className="kpi-label">{i.runningSince ? "Running since" : "Created"}</span>
          <span className="kpi-value small">{short(i.runningSince ?? i.createdAt)}</span>
          {i.billedWhileStopped && i.status === "stopped" ? (
            <span className="muted small">{i.billedWhileStopped}</span>
          ) : null}
        </div>
      </div>

      <section data-testid="instance-ssh">
        <h2>SSH</h2>
        {command ? (
          <div className="row">
            <code className="ssh" data-testid="ssh-command">
              {command}
            </code>
            <CopyButton value={command} label="Copy the ssh command" />
          </div>
        ) : (
          <p className="muted">The ssh command shows here once the instance is running.</p>
        )}
      </section>

      <InstanceTerminal instance={i} />

      {i.status === "running" && <InstanceMetricsPanel instance={i} />}

      <InstanceLogsPanel instanceId={i.id} />

      <InstanceVolumes instance={i} reload={instance.reload} />

      <section>
        <h2>Status history</h2>
        <ErrorNote error={events.error} />
        <DataTable
          testId="instance-events"
          rows={events.data}
          empty="No events recorded for this instance."
          columns={[
            { label: "When", render: (e) => short(e.created_at) },
            {
              label: "Event",
              render: (e) => (e.status ? <Badge value={e.status} /> : <span className="muted">{e.type}</span>),
            },
            { label: "Change", render: (e) => describe(e, volumeName) },
            { label: "Reason", render: (e) => text(e.reason) },
          ]}
        />
        <Pager list={events} />
      </section>
    </>
  );
}
