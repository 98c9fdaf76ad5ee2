/** `audit`: the audit trail (operator: every entry; a tenant key: its own tenant's). */
import { unwrap } from "@gpuplane/sdk";
import { table } from "../output.js";
import { type Command, int, str } from "../spec.js";

export const auditCommands: Command[] = [
  {
    path: ["audit"],
    summary: "Who changed keys, credits, prices, tenants, nodes, providers (newest first)",
    options: [
      { name: "tenant", value: "ID", help: "one tenant's entries (operator)" },
      { name: "action", value: "ACTION", help: "e.g. tenant.update or api_key.*" },
      { name: "target", value: "TARGET", help: "e.g. tenant:4, node:7" },
      { name: "actor", value: "KEY_ID", help: "the acting key or session" },
      { name: "since", value: "ISO", help: "entries at or after this time" },
      { name: "limit", value: "N", help: "how many (default 50)" },
    ],
    async run(c, a) {
      const query = {
        tenant_id: int(a, "tenant"),
        action: str(a, "action"),
        target: str(a, "target"),
        actor: str(a, "actor"),
        since: str(a, "since"),
        limit: int(a, "limit"),
      };
      const entries = await unwrap(c.api().GET("/api/v1/audit-log", { params: { query } }));
      c.out.result(entries, () =>
        table(entries, [
          ["TIME", (e) => e.created_at],
          ["ACTOR", (e) => `${e.actor_kind}${e.actor_key_id ? ` ${e.actor_key_id}` : ""}`],
          ["TENANT", (e) => String(e.tenant_id ?? "-")],
          ["ACTION", (e) => e.action],
          ["TARGET", (e) => e.target],
          ["REQUEST", (e) => e.request_id ?? "-"],
        ]),
      );
    },
  },
];
