import { type FormEvent, useState } from "react";
import { api } from "../api.js";
import { text, when } from "../format.js";
import { usePagedList } from "../hooks.js";
import type { CreatedWebhook, Webhook } from "../types.js";
import { ActionButton, Badge, DataTable, ErrorNote, PageHeader, Pager, SecretOnce } from "../ui.js";

export function WebhooksPage() {
  const list = usePagedList<Webhook>("/webhooks");
  const [secret, setSecret] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const events = String(form.get("events") ?? "")
      .split(/[\s,]+/)
      .filter(Boolean);
    setBusy(true);
    setError(undefined);
    try {
      const res = await api.post<CreatedWebhook>("/webhooks", {
        url: String(form.get("url") ?? "").trim(),
        events: events.length > 0 ? events : ["*"],
      });
      const signing = res.data.secret;
      if (signing) setSecret(String(signing));
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
      <PageHeader title="Webhooks" />
      <p className="muted">gpuplane POSTs signed events (Standard Webhooks) to your endpoints when instances change.</p>
      {secret && (
        <SecretOnce label="The endpoint's signing secret." secret={secret} onDone={() => setSecret(undefined)} />
      )}
      <ErrorNote error={list.error} />
      <DataTable
        testId="webhooks"
        rows={list.data}
        empty="No webhook endpoints."
        columns={[
          { label: "URL", render: (w) => <code>{text(w.url)}</code> },
          {
            label: "Events",
            render: (w) => (Array.isArray(w.events) && w.events.length ? w.events.join(", ") : "all"),
          },
          { label: "Status", render: (w) => <Badge value={w.status} /> },
          { label: "Created", render: (w) => when(w.created_at) },
          {
            label: "",
            render: (w) => (
              <ActionButton
                tone="danger"
                confirm="Delete this endpoint?"
                onClick={async () => {
                  await api.del(`/webhooks/${encodeURIComponent(String(w.id))}`);
                  list.reload();
                }}
              >
                Delete
              </ActionButton>
            ),
          },
        ]}
      />
      <Pager list={list} />
      <form onSubmit={create} className="card stack">
        <h2>Add an endpoint</h2>
        <div className="grid2">
          <label>
            URL
            <input name="url" type="url" required placeholder="https://example.com/hooks/gpuplane" />
          </label>
          <label>
            <span>
              Events <span className="muted">(comma separated; empty for all)</span>
            </span>
            <input name="events" placeholder="instance.*, waitlist.available" />
          </label>
        </div>
        <ErrorNote error={error} />
        <div>
          <button type="submit" className="primary" disabled={busy}>
            Add endpoint
          </button>
        </div>
      </form>
    </>
  );
}
