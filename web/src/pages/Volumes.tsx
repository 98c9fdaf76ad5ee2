import { type FormEvent, useState } from "react";
import { api } from "../api.js";
import { short, text } from "../format.js";
import { usePagedList, useResource } from "../hooks.js";
import type { Instance, Region, Volume } from "../types.js";
import { ActionButton, Badge, DataTable, ErrorNote, Link, PageHeader, Pager } from "../ui.js";

/** A free volume attaches to an instance of its own region that is not on its way out. */
const attachable = (i: Instance, v: Volume) =>
  i.region === v.region && !["deleting", "deleted", "failed", "lost"].includes(i.status);

function AttachControl({ volume, instances, reload }: { volume: Volume; instances: Instance[]; reload: () => void }) {
  const options = instances.filter((i) => attachable(i, volume));
  const [chosen, setChosen] = useState("");
  if (options.length === 0) return null;
  return (
    <span className="row">
      <select
        aria-label={`Instance to attach ${volume.name} to`}
        value={chosen}
        onChange={(e) => setChosen(e.target.value)}
      >
        <option value="">Attach to…</option>
        {options.map((i) => (
          <option key={i.id} value={i.id}>
            {i.name}
          </option>
        ))}
      </select>
      <ActionButton
        onClick={async () => {
          if (!chosen) throw new Error("choose an instance first");
          await api.post(`/instances/${encodeURIComponent(chosen)}/volumes`, { volume_id: volume.id });
          setChosen("");
          reload();
        }}
      >
        Attach
      </ActionButton>
    </span>
  );
}

/** Persistent volumes: create one in a region, attach it to an instance there, detach it, delete it. */
export function VolumesPage() {
  const list = usePagedList<Volume>("/volumes", 10000);
  const regions = useResource<Region[]>("/regions");
  const instances = useResource<Instance[]>("/instances?limit=200", 10000);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const rows = list.data?.filter((v) => v.status !== "deleted");
  const instanceOf = (id: string | null) => (id ? instances.data?.find((i) => i.id === id) : undefined);
  const activeRegions = (regions.data ?? []).filter((r) => r.active);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setBusy(true);
    setError(undefined);
    try {
      await api.post("/volumes", {
        name: String(form.get("name") ?? "").trim(),
        size_gb: Number(form.get("size_gb")),
        type: String(form.get("type") ?? "nvme"),
        region: String(form.get("region") ?? ""),
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
      <PageHeader title="Volumes" />
      <p className="muted">
        Volumes keep their data when an instance stops or is deleted. A volume attaches to one instance at a time, in
        its own region; it is billed per GB-month while it exists.
      </p>
      <ErrorNote error={list.error} />
      <DataTable
        testId="volumes"
        rows={rows}
        empty="No volumes yet. Create one below to keep data across instances."
        columns={[
          {
            label: "Name",
            render: (v) => (
              <div>
                <strong>{v.name}</strong>
                <div className="muted small">{short(v.created_at)}</div>
              </div>
            ),
          },
          { label: "Size", render: (v) => `${v.size_gb} GB ${v.type.toUpperCase()}` },
          { label: "Region", render: (v) => v.region },
          { label: "Status", render: (v) => <Badge value={v.status} /> },
          {
            label: "Attached to",
            render: (v) => {
              if (!v.instance_id) return <span className="muted">—</span>;
              const instance = instanceOf(v.instance_id);
              return (
                <Link to={`/instances/${encodeURIComponent(v.instance_id)}`}>
                  {text(instance?.name, v.instance_id)}
                </Link>
              );
            },
          },
          { label: "Per month", render: (v) => `$${v.price_per_month_usd.toFixed(2)}` },
          {
            label: "",
            render: (v) =>
              v.instance_id ? (
                <ActionButton
                  onClick={async () => {
                    await api.del(
                      `/instances/${encodeURIComponent(v.instance_id ?? "")}/volumes/${encodeURIComponent(v.id)}`,
                    );
                    list.reload();
                  }}
                >
                  Detach
                </ActionButton>
              ) : (
                <div className="row">
                  <AttachControl volume={v} instances={instances.data ?? []} reload={list.reload} />
                  <ActionButton
                    tone="danger"
                    confirm={`Delete the volume ${v.name}? Its data is gone for good.`}
                    onClick={async () => {
                      await api.del(`/volumes/${encodeURIComponent(v.id)}`);
                      list.reload();
                    }}
                  >
                    Delete
                  </ActionButton>
                </div>
              ),
          },
        ]}
      />
      <Pager list={list} />
      <form className="card stack" onSubmit={create}>
        <h2>Create a volume</h2>
        <div className="grid2">
          <label>
            Name
            <input name="name" required maxLength={128} placeholder="datasets" />
          </label>
          <label>
            Size (GB)
            <input name="size_gb" type="number" required min={1} max={65536} defaultValue={100} />
          </label>
          <label>
            Type
            <select name="type" defaultValue="nvme">
              <option value="nvme">NVMe</option>
              <option value="hdd">HDD</option>
            </select>
          </label>
          <label>
            Region
            <select name="region" required>
              {activeRegions.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name === r.id ? r.id : `${r.id} (${r.name})`}
                </option>
              ))}
            </select>
          </label>
        </div>
        <ErrorNote error={error} />
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            Create volume
          </button>
        </div>
      </form>
    </>
  );
}
