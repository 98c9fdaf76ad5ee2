import { api } from "../api.js";
import { text, when } from "../format.js";
import { usePagedList } from "../hooks.js";
import type { WaitlistEntry } from "../types.js";
import { ActionButton, Badge, DataTable, ErrorNote, PageHeader, Pager } from "../ui.js";

export function WaitlistPage() {
  const list = usePagedList<WaitlistEntry>("/waitlist", 10000);
  return (
    <>
      <PageHeader title="Waitlist" />
      <p className="muted">
        When a GPU type is sold out in a region, wait for it here: gpuplane notifies you, or launches the instance for
        you, as soon as capacity frees up.
      </p>
      <ErrorNote error={list.error} />
      <DataTable
        testId="waitlist"
        rows={list.data}
        empty="You are not waiting for anything."
        columns={[
          { label: "GPU type", render: (e) => <strong>{e.instance_type}</strong> },
          { label: "Region", render: (e) => text(e.region) },
          {
            label: "When it frees up",
            render: (e) =>
              e.mode === "auto_deploy" ? `launch ${text(e.deploy?.hostname, "an instance")}` : "notify me",
          },
          {
            label: "Status",
            render: (e) => (
              <div>
                <Badge value={e.status} />
                {e.position ? <div className="muted small">#{text(e.position)} in line</div> : null}
              </div>
            ),
          },
          { label: "Joined", render: (e) => when(e.created_at) },
          {
            label: "",
            render: (e) =>
              e.status === "waiting" ? (
                <ActionButton
                  tone="danger"
                  onClick={async () => {
                    await api.del(`/waitlist/${encodeURIComponent(String(e.id))}`);
                    list.reload();
                  }}
                >
                  Leave
                </ActionButton>
              ) : null,
          },
        ]}
      />
      <Pager list={list} />
    </>
  );
}
