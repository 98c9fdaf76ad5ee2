import { api } from "../api.js";
import { pick, type Row, short, text, usd } from "../format.js";
import { usePagedList } from "../hooks.js";
import { ActionButton, Badge, DataTable, ErrorNote, Link, PageHeader, Pager } from "../ui.js";

const gone = new Set(["deleted", "deleting"]);

/** The command to reach a running instance, from the fields it reports. */
export function sshCommand(instance: Row): string | null {
  const given = pick(instance, "ssh_command", "sshCommand");
  if (typeof given === "string" && given) return given;
  const ip = pick(instance, "ip_address", "ipAddress", "ip", "public_ip");
  if (!ip) return null;
  const user = text(pick(instance, "ssh_user", "sshUser"), "root");
  const port = pick(instance, "ssh_port", "sshPort");
  return `ssh ${port && Number(port) !== 22 ? `-p ${port} ` : ""}${user}@${ip}`;
}

function InstanceActions({ instance, reload }: { instance: Row; reload: () => void }) {
  const id = encodeURIComponent(String(instance.id));
  const status = String(instance.status ?? "");
  const act = (method: "post" | "del", path: string) => async () => {
    await (method === "post" ? api.post(path) : api.del(path));
    reload();
  };
  if (gone.has(status)) return null;
  return (
    <div className="row">
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

/** A customer's instances; an operator (`operator`) sees every tenant's, with a tenant column and no launch. */
export function InstancesPage({ operator = false }: { operator?: boolean }) {
  const list = usePagedList<Row>("/instances", 5000);
  const rows = list.data?.filter((i) => i.status !== "deleted");

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
            render: (i) => (
              <div>
                <strong>{text(i.name)}</strong>
                <div className="muted small">
                  {text(i.id)} · {short(pick(i, "created_at", "createdAt"))}
                </div>
              </div>
            ),
          },
          {
            label: "Type",
            render: (i) => {
              const gpus = pick(i, "gpu_count", "gpuCount");
              const model = pick(i, "gpu_model", "gpuModel", "gpuType", "gpu_type");
              return (
                <div>
                  {text(pick(i, "plan_id", "planId", "cluster_type", "instance_type", "type"))}
                  <div className="muted small">
                    {gpus || model ? `${text(gpus, "")}× ${text(model, "GPU")} · ` : ""}
                    {text(pick(i, "region", "location", "region_id"), "")}
                  </div>
                </div>
              );
            },
          },
          ...(operator ? [{ label: "Tenant", render: (i: Row) => text(pick(i, "tenantId", "tenant_id")) }] : []),
          {
            label: "Status",
            render: (i) => (
              <div>
                <Badge value={i.status} />
                {pick(i, "statusReason", "status_reason") && i.status === "failed" ? (
                  <div className="muted small">{text(pick(i, "statusReason", "status_reason"))}</div>
                ) : null}
              </div>
            ),
          },
          {
            label: "Price / hr",
            render: (i) => usd(pick(i, "price_per_hour_usd", "price_per_hour", "pricePerHour", "hourly_price")),
          },
          {
            label: "Access",
            render: (i) => {
              const command = i.status === "running" ? sshCommand(i) : null;
              return command ? <code className="ssh">{command}</code> : <span className="muted">—</span>;
            },
          },
          { label: "", render: (i) => <InstanceActions instance={i} reload={list.reload} /> },
        ]}
      />
      <Pager list={list} />
    </>
  );
}
