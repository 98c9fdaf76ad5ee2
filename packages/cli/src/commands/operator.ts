/** Operator commands: tenants, credits, nodes, alerts and join tokens (an operator key is needed). */
import { collect, paginate, type Schema, unwrap } from "@gpuplane/sdk";
import { fields, table, usd, when } from "../output.js";
import { type Command, intArg, str, UsageError } from "../spec.js";

export const operatorCommands: Command[] = [
  {
    path: ["tenants", "list"],
    summary: "Tenants (operator)",
    async run(c) {
      const api = c.api();
      const tenants = await collect(
        paginate((cursor) => api.GET("/api/v1/tenants", { params: { query: { cursor } } })),
      );
      c.out.result(tenants, () =>
        table(tenants, [
          ["ID", (t) => t.id],
          ["NAME", (t) => t.name],
          ["EMAIL", (t) => t.contact_email],
          ["STATUS", (t) => t.status],
          ["GPU QUOTA", (t) => t.gpu_quota],
          ["BILLING", (t) => t.billing_mode],
          ["CREATED", (t) => when(t.created_at)],
        ]),
      );
    },
  },
  {
    path: ["tenants", "show"],
    summary: "One tenant (operator)",
    args: "<id>",
    async run(c, a) {
      const id = intArg(a.positionals[0], "tenant id");
      const t = await unwrap(c.api().GET("/api/v1/tenants/{id}", { params: { path: { id } } }));
      c.out.result(t, () =>
        fields([
          ["id", t.id],
          ["name", t.name],
          ["email", t.contact_email],
          ["status", t.status],
          ["gpu quota", t.gpu_quota],
          ["plan", t.plan_tier],
          ["billing", t.billing_mode],
        ]),
      );
    },
  },
  {
    path: ["credits", "grant"],
    summary: "Grant prepaid credit to a tenant (operator)",
    args: "<tenant-id> <usd>",
    options: [{ name: "description", value: "TEXT", help: "why (shown in the tenant's ledger)" }],
    async run(c, a) {
      const id = intArg(a.positionals[0], "tenant id");
      const amount = a.positionals[1];
      if (!/^\d+(\.\d{1,6})?$/.test(amount))
        throw new UsageError(`"${amount}" is not a USD amount (e.g. 100 or 12.50)`);
      const result = await unwrap(
        c.api().POST("/api/v1/tenants/{id}/credits", {
          params: { path: { id } },
          body: { amount_usd: amount, description: str(a, "description") ?? "granted with the gpuplane CLI" },
        }),
      );
      c.out.result(result, () => `granted ${usd(amount)} to tenant ${id}; balance ${usd(result.balance.balance)}`);
    },
  },
  {
    path: ["nodes", "list"],
    summary: "GPU nodes of the fleet (operator)",
    options: [
      { name: "cluster", value: "ID", help: "only this cluster's nodes" },
      { name: "status", value: "STATUS", help: "only nodes in this state" },
    ],
    async run(c, a) {
      const api = c.api();
      const cluster = str(a, "cluster");
      const query = {
        cluster_id: cluster ? intArg(cluster, "--cluster") : undefined,
        status: str(a, "status") as Schema<"Node">["status"] | undefined,
      };
      const nodes = await collect(
        paginate((cursor) => api.GET("/api/v1/nodes", { params: { query: { ...query, cursor } } })),
      );
      c.out.result(nodes, () =>
        table(nodes, [
          ["ID", (n) => n.id],
          ["CLUSTER", (n) => n.cluster_id],
          ["HOSTNAME", (n) => n.hostname],
          ["IP", (n) => n.ip_address],
          ["STATUS", (n) => n.status],
          ["GPUS", (n) => `${n.allocated_gpus}/${n.gpu_count} used`],
          ["HEARTBEAT", (n) => when(n.last_heartbeat_at)],
          [
            "AGENT",
            (n) =>
              n.agent_version === null
                ? "-"
                : `${n.agent_version}${n.agent_outdated ? " (outdated)" : ""}${n.agent_upgrade_requested_at ? " upgrading" : ""}`,
          ],
          [
            "IMAGES",
            (n) =>
              n.images
                ? `${n.images.catalog.filter((i) => i.state === "present").length}/${n.images.catalog.length} present`
                : "-",
          ],
          ["DISK LIMIT", (n) => (n.storage ? (n.storage.disk_limit ? "enforced" : "not enforced") : "-")],
        ]),
      );
    },
  },
  {
    path: ["nodes", "upgrade"],
    summary: "Upgrade a node's agent to the server's build; running work is kept (operator)",
    args: "<id>",
    async run(c, a) {
      const id = intArg(a.positionals[0], "node id");
      const node = await unwrap(c.api().POST("/api/v1/nodes/{id}/upgrade", { params: { path: { id } } }));
      c.out.result(
        node,
        () =>
          `node ${id}: upgrade of agent ${node.agent_version} asked; it restarts into the server's build between work`,
      );
    },
  },
  ...(["cordon", "drain", "uncordon"] as const).map(
    (action): Command => ({
      path: ["nodes", action],
      summary: {
        cordon: "Stop scheduling new work on a node (operator)",
        drain: "Cordon a node and move its work off (operator)",
        uncordon: "Let a node take new work again (operator)",
      }[action],
      args: "<id>",
      async run(c, a) {
        const id = intArg(a.positionals[0], "node id");
        const node = await unwrap(c.api().POST(`/api/v1/nodes/{id}/${action}`, { params: { path: { id } } }));
        c.out.result(node, () => `node ${id} ${(node as { status?: string }).status ?? action}`);
      },
    }),
  ),
  {
    path: ["alerts"],
    summary: "Alert events, open ones first (operator)",
    options: [{ name: "status", value: "open|resolved", help: "only events in this state" }],
    async run(c, a) {
      const events = await unwrap(
        c.api().GET("/api/v1/alerts/events", {
          params: { query: { status: str(a, "status") as Schema<"AlertEvent">["status"] | undefined } },
        }),
      );
      c.out.result(events, () =>
        table(events, [
          ["ID", (e) => e.id],
          ["SEVERITY", (e) => e.severity],
          ["STATUS", (e) => e.status],
          ["RULE", (e) => e.rule_name],
          ["SUBJECT", (e) => e.subject],
          ["MESSAGE", (e) => e.message],
          ["OPENED", (e) => when(e.opened_at)],
        ]),
      );
    },
  },
  {
    path: ["join-token"],
    summary: "A one-time token for a GPU host to join a cluster (operator); prints the agent's command",
    args: "<cluster-id>",
    options: [{ name: "ttl", value: "SECONDS", help: "how long it stays valid (default one day)" }],
    async run(c, a) {
      const id = intArg(a.positionals[0], "cluster id");
      const ttl = str(a, "ttl");
      const token = await unwrap(
        c.api().POST("/api/v1/clusters/{id}/join-tokens", {
          params: { path: { id } },
          body: { ttl_seconds: ttl ? intArg(ttl, "--ttl") : undefined },
        }),
      );
      c.out.result(
        token,
        () =>
          `expires ${when(token.expires_at)}; on the GPU host run:\n\n  ${token.join_command}\n` +
          (token.join_command_warning ? `\nwarning: ${token.join_command_warning}\n` : ""),
      );
    },
  },
];
