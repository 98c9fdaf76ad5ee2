/** `balance`, `usage` (per instance and per day) and `transactions`. */
import { collect, paginate, unwrap } from "@gpuplane/sdk";
import { duration, fields, table, usd, when } from "../output.js";
import { type Command, int, intArg } from "../spec.js";

const tenantOption = { name: "tenant", value: "ID", help: "operators: the tenant to look at" };
const tenant = (a: { options: Record<string, unknown> }) => {
  const value = a.options.tenant;
  return typeof value === "string" ? intArg(value, "--tenant") : undefined;
};

/** How long the balance lasts at the burn rate (prepaid), as a person reads it. */
function runway(seconds: number | null, warning: boolean): string {
  if (seconds === null) return "-";
  return `${duration(seconds)} until running instances are stopped${warning ? " (soon: top up)" : ""}`;
}

export const billingCommands: Command[] = [
  {
    path: ["balance"],
    summary: "Prepaid balance and whether it allows a new launch",
    options: [tenantOption],
    async run(c, a) {
      const balance = await unwrap(
        c.api().GET("/api/v1/billing/balance", { params: { query: { tenant_id: tenant(a) } } }),
      );
      c.out.result(balance, () =>
        fields([
          ["balance", usd(balance.balance)],
          ["minimum to launch", `$${balance.minimum_balance_usd}`],
          ["can launch", balance.can_deploy ? "yes" : "no: top up or ask for credit"],
          [
            "burn rate",
            balance.burn_rate_usd_per_hour ? `${usd(balance.burn_rate_usd_per_hour)}/hour` : "nothing running",
          ],
          ["runway", runway(balance.runway_seconds, balance.auto_stop_warning)],
          ["billing", balance.billing_mode],
        ]),
      );
    },
  },
  {
    path: ["usage"],
    summary: "What was charged, per instance (and job, volume) and per day",
    options: [{ name: "days", value: "N", help: "how many days back (1–90, default 30)" }, tenantOption],
    async run(c, a) {
      const query = { days: int(a, "days"), tenant_id: tenant(a) };
      const usage = await unwrap(c.api().GET("/api/v1/billing/usage", { params: { query } }));
      c.out.result(usage, () =>
        [
          `usage ${when(usage.from)} → ${when(usage.to)}: ${usd(usage.total_usd)}`,
          "",
          table(usage.items, [
            ["KIND", (i) => i.kind],
            ["ID", (i) => i.id],
            ["TIME", (i) => duration(i.seconds)],
            ["AMOUNT", (i) => usd(i.amount_usd)],
          ]),
          "",
          table(usage.days, [
            ["DAY", (d) => d.day],
            ["TIME", (d) => duration(d.seconds)],
            ["AMOUNT", (d) => usd(d.amount_usd)],
          ]),
        ].join("\n"),
      );
    },
  },
  {
    path: ["transactions"],
    summary: "The credit ledger: grants, top-ups and charges",
    options: [tenantOption],
    async run(c, a) {
      const api = c.api();
      const tenant_id = tenant(a);
      const rows = await collect(
        paginate((cursor) => api.GET("/api/v1/billing/transactions", { params: { query: { cursor, tenant_id } } })),
      );
      c.out.result(rows, () =>
        table(rows, [
          ["WHEN", (t) => when(t.created_at)],
          ["KIND", (t) => t.kind],
          ["AMOUNT", (t) => usd(t.amount_usd)],
          ["BALANCE", (t) => usd(t.balance_after_usd)],
          ["DESCRIPTION", (t) => t.description],
        ]),
      );
    },
  },
];
