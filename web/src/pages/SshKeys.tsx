import { type FormEvent, useState } from "react";
import { api } from "../api.js";
import { text, when } from "../format.js";
import { usePagedList } from "../hooks.js";
import type { SshKey } from "../types.js";
import { ActionButton, DataTable, ErrorNote, PageHeader, Pager } from "../ui.js";

export function SshKeysPage() {
  const list = usePagedList<SshKey>("/ssh-keys");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setBusy(true);
    setError(undefined);
    try {
      await api.post("/ssh-keys", {
        name: String(form.get("name") ?? "").trim(),
        public_key: String(form.get("public_key") ?? "").trim(),
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
      <PageHeader title="SSH keys" />
      <p className="muted">
        Public keys are placed on instances at launch, so you can log in with your own private key.
      </p>
      <ErrorNote error={list.error} />
      <DataTable
        testId="ssh-keys"
        rows={list.data}
        empty="No SSH keys yet."
        columns={[
          { label: "Name", render: (k) => <strong>{text(k.name)}</strong> },
          { label: "Type", render: (k) => k.key_type },
          { label: "Fingerprint", render: (k) => <code>{text(k.fingerprint)}</code> },
          { label: "Added", render: (k) => when(k.created_at) },
          {
            label: "",
            render: (k) => (
              <ActionButton
                tone="danger"
                confirm={`Delete the key ${text(k.name)}?`}
                onClick={async () => {
                  await api.del(`/ssh-keys/${encodeURIComponent(String(k.id))}`);
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
      <form onSubmit={add} className="card stack">
        <h2>Add a key</h2>
        <label>
          Name
          <input name="name" required maxLength={100} placeholder="my-laptop" />
        </label>
        <label>
          Public key
          <textarea
            name="public_key"
            required
            rows={3}
            spellCheck={false}
            placeholder="ssh-ed25519 AAAA… you@host (the contents of ~/.ssh/id_ed25519.pub)"
          />
        </label>
        <ErrorNote error={error} />
        <div>
          <button type="submit" className="primary" disabled={busy}>
            Add key
          </button>
        </div>
      </form>
    </>
  );
}
