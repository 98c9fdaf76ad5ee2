/** `keys list|create|rm` (API keys) and `webhooks list|create|show|rm|test|deliveries`. */
import { collect, paginate, type Schema, unwrap } from "@gpuplane/sdk";
import { fields, table, when } from "../output.js";
import { type Command, list, str, UsageError } from "../spec.js";

export const keyCommands: Command[] = [
  {
    path: ["keys", "list"],
    summary: "API keys (secrets are never shown again)",
    async run(c) {
      const api = c.api();
      const keys = await collect(paginate((cursor) => api.GET("/api/v1/api-keys", { params: { query: { cursor } } })));
      c.out.result(keys, () =>
        table(keys, [
          ["ID", (k) => k.id],
          ["LABEL", (k) => k.label],
          ["PREFIX", (k) => k.prefix],
          ["PERMISSIONS", (k) => k.permissions.join(",")],
          ["SCOPES", (k) => k.scopes.join(",")],
          ["LAST USED", (k) => when(k.last_used_at)],
          ["REVOKED", (k) => when(k.revoked_at)],
        ]),
      );
    },
  },
  {
    path: ["keys", "create"],
    summary: "Create an API key; its secret is printed once",
    options: [
      { name: "label", value: "LABEL", help: "what it is for (required)" },
      {
        name: "permission",
        value: "read|write|admin",
        help: "a permission (default: as the API decides)",
        repeat: true,
      },
      { name: "scope", value: "AREA", help: "an area it may use (instances, billing, …)", repeat: true },
      { name: "expires", value: "ISO-TIME", help: "when it stops working" },
    ],
    async run(c, a) {
      const label = str(a, "label");
      if (!label) throw new UsageError("--label is required");
      const body = {
        label,
        permissions: list(a, "permission").length ? list(a, "permission") : undefined,
        scopes: list(a, "scope").length ? list(a, "scope") : undefined,
        expires_at: str(a, "expires"),
      };
      const key = await unwrap(c.api().POST("/api/v1/api-keys", { body: body as Schema<"CreateApiKey"> }));
      c.out.result(
        key,
        () => `created ${key.id} (${key.label})\n\n  ${key.key}\n\nStore it now: it is not shown again.`,
      );
    },
  },
  {
    path: ["keys", "rm"],
    summary: "Revoke an API key",
    args: "<id>",
    async run(c, a) {
      const id = a.positionals[0];
      await c.api().DELETE("/api/v1/api-keys/{id}", { params: { path: { id } } });
      c.out.result({ id, revoked: true }, () => `revoked ${id}`);
    },
  },
];

export const webhookCommands: Command[] = [
  {
    path: ["webhooks", "list"],
    summary: "Webhook endpoints",
    async run(c) {
      const api = c.api();
      const hooks = await collect(paginate((cursor) => api.GET("/api/v1/webhooks", { params: { query: { cursor } } })));
      c.out.result(hooks, () =>
        table(hooks, [
          ["ID", (w) => w.id],
          ["URL", (w) => w.url],
          ["EVENTS", (w) => w.events.join(",")],
          ["STATUS", (w) => w.status],
        ]),
      );
    },
  },
  {
    path: ["webhooks", "create"],
    summary: "Add an endpoint; its signing secret is printed once",
    args: "<url>",
    options: [
      { name: "event", value: "TYPE", help: "an event type, `domain.*` or `*` (default *)", repeat: true },
      { name: "description", value: "TEXT", help: "a note for yourself" },
    ],
    async run(c, a) {
      const events = list(a, "event").length ? list(a, "event") : ["*"];
      const hook = await unwrap(
        c.api().POST("/api/v1/webhooks", {
          body: { url: a.positionals[0], events, description: str(a, "description") },
        }),
      );
      c.out.result(
        hook,
        () => `created ${hook.id}\n\n  signing secret: ${hook.secret}\n\nStore it now: it is not shown again.`,
      );
    },
  },
  {
    path: ["webhooks", "show"],
    summary: "One endpoint",
    args: "<id>",
    async run(c, a) {
      const hook = await unwrap(c.api().GET("/api/v1/webhooks/{id}", { params: { path: { id: a.positionals[0] } } }));
      c.out.result(hook, () =>
        fields([
          ["id", hook.id],
          ["url", hook.url],
          ["events", hook.events.join(", ")],
          ["status", hook.status],
          ["description", hook.description],
        ]),
      );
    },
  },
  {
    path: ["webhooks", "rm"],
    summary: "Delete an endpoint",
    args: "<id>",
    async run(c, a) {
      const id = a.positionals[0];
      await c.api().DELETE("/api/v1/webhooks/{id}", { params: { path: { id } } });
      c.out.result({ id, deleted: true }, () => `deleted ${id}`);
    },
  },
  {
    path: ["webhooks", "test"],
    summary: "Send a webhook.ping to an endpoint",
    args: "<id>",
    async run(c, a) {
      const result = await unwrap(
        c.api().POST("/api/v1/webhooks/{id}/test", { params: { path: { id: a.positionals[0] } } }),
      );
      c.out.result(result, () => `ping queued: follow it with gpuplane webhooks deliveries ${a.positionals[0]}`);
    },
  },
  {
    path: ["webhooks", "deliveries"],
    summary: "An endpoint's delivery log",
    args: "<id>",
    async run(c, a) {
      const api = c.api();
      const id = a.positionals[0];
      const rows = await unwrap(api.GET("/api/v1/webhooks/{id}/deliveries", { params: { path: { id } } }));
      c.out.result(rows, () =>
        table(rows, [
          ["ID", (d) => d.id],
          ["EVENT", (d) => d.event],
          ["STATUS", (d) => d.status],
          ["ATTEMPTS", (d) => d.attempts],
          ["LAST ANSWER", (d) => d.last_status_code ?? d.last_error],
          ["DELIVERED", (d) => when(d.delivered_at)],
        ]),
      );
    },
  },
];
