import { type FormEvent, useState } from "react";
import { api } from "../api.js";
import { text, when } from "../format.js";
import { usePagedList } from "../hooks.js";
import { useSession } from "../session.js";
import type { ApiKey, CreatedApiKey } from "../types.js";
import { ActionButton, DataTable, ErrorNote, PageHeader, Pager, SecretOnce } from "../ui.js";

export function ApiKeysPage() {
  const { me } = useSession();
  const list = usePagedList<ApiKey>("/api-keys");
  const [secret, setSecret] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const access = String(form.get("access") ?? "write");
    const permissions = access === "read" ? ["read"] : ["read", "write"];
    setBusy(true);
    setError(undefined);
    try {
      const res = await api.post<CreatedApiKey>("/api-keys", {
        label: String(form.get("label") ?? "").trim(),
        permissions,
      });
      setSecret(String(res.data.key));
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
      <PageHeader title="API keys" />
      <p className="muted">
        Send a key as <code>X-API-Key</code> or <code>Authorization: Bearer</code>. Only its hash is stored.
      </p>
      {secret && <SecretOnce label="Your new API key." secret={secret} onDone={() => setSecret(undefined)} />}
      <ErrorNote error={list.error} />
      <DataTable
        testId="api-keys"
        rows={list.data}
        empty="No API keys."
        columns={[
          {
            label: "Label",
            render: (k) => (
              <div>
                <strong>{text(k.label)}</strong>
                {k.id === me?.key_id && <span className="badge blue">this session</span>}
                {k.created_by_session_id && (
                  <div className="muted">made in the console by {text(k.login_email ?? "a session")}</div>
                )}
              </div>
            ),
          },
          { label: "Key", render: (k) => <code>{text(k.prefix).replace(/…?$/, "…")}</code> },
          {
            label: "Access",
            render: (k) => `${(k.permissions as string[] | undefined)?.join(", ") ?? "—"}`,
          },
          { label: "Scopes", render: (k) => (k.scopes as string[] | undefined)?.join(", ") ?? "—" },
          { label: "Last used", render: (k) => when(k.last_used_at) },
          { label: "Expires", render: (k) => (k.expires_at ? when(k.expires_at) : "never") },
          {
            label: "",
            render: (k) =>
              k.id === me?.key_id ? null : (
                <ActionButton
                  tone="danger"
                  confirm={`Revoke ${text(k.label)}? Anything using it stops working at once.`}
                  onClick={async () => {
                    await api.del(`/api-keys/${encodeURIComponent(String(k.id))}`);
                    list.reload();
                  }}
                >
                  Revoke
                </ActionButton>
              ),
          },
        ]}
      />
      <Pager list={list} />
      <form onSubmit={create} className="card stack">
        <h2>Create a key</h2>
        <div className="grid2">
          <label>
            Label
            <input name="label" required maxLength={200} placeholder="ci-pipeline" />
          </label>
          <label>
            Access
            <select name="access" defaultValue="write">
              <option value="write">read and write</option>
              <option value="read">read only</option>
            </select>
          </label>
        </div>
        <ErrorNote error={error} />
        <div>
          <button type="submit" className="primary" disabled={busy}>
            Create key
          </button>
        </div>
      </form>
    </>
  );
}
