/** `waitlist join|list|show|leave`: queue for a GPU type that is out of capacity. */
import { collect, paginate, type Schema, unwrap } from "@gpuplane/sdk";
import { fields, table, when } from "../output.js";
import { type Command, str } from "../spec.js";

type Entry = Schema<"WaitlistEntry">;

const show = (e: Entry) =>
  fields([
    ["id", e.id],
    ["type", e.instance_type],
    ["region", e.region],
    ["mode", e.mode],
    ["status", e.status_reason ? `${e.status} (${e.status_reason})` : e.status],
    ["position", e.position],
    ["instance", e.instance_id],
    ["joined", when(e.created_at)],
  ]);

export const waitlistCommands: Command[] = [
  {
    path: ["waitlist", "join"],
    summary: "Join the waitlist for a plan or cluster type in a region",
    args: "<plan>",
    options: [
      { name: "region", value: "REGION", help: "the region to wait for" },
      { name: "mode", value: "notify|auto_deploy", help: "notify (default) or launch automatically when free" },
    ],
    async run(c, a) {
      // A plan id ("GPU.H100.1x") or a cluster type ("1H100.80S.30V"): the API resolves either as the instance type.
      const mode = str(a, "mode") as Entry["mode"] | undefined;
      const body = { instance_type: a.positionals[0], region: str(a, "region"), mode };
      const entry = await unwrap(c.api().POST("/api/v1/waitlist", { body }));
      c.out.result(entry, () => show(entry));
    },
  },
  {
    path: ["waitlist", "list"],
    summary: "Your waitlist entries",
    async run(c) {
      const api = c.api();
      const entries = await collect(
        paginate((cursor) => api.GET("/api/v1/waitlist", { params: { query: { cursor } } })),
      );
      c.out.result(entries, () =>
        table(entries, [
          ["ID", (e) => e.id],
          ["TYPE", (e) => e.instance_type],
          ["REGION", (e) => e.region],
          ["MODE", (e) => e.mode],
          ["STATUS", (e) => e.status],
          ["POSITION", (e) => e.position],
          ["INSTANCE", (e) => e.instance_id],
        ]),
      );
    },
  },
  {
    path: ["waitlist", "show"],
    summary: "One waitlist entry",
    args: "<id>",
    async run(c, a) {
      const entry = await unwrap(c.api().GET("/api/v1/waitlist/{id}", { params: { path: { id: a.positionals[0] } } }));
      c.out.result(entry, () => show(entry));
    },
  },
  {
    path: ["waitlist", "leave"],
    summary: "Leave the waitlist",
    args: "<id>",
    async run(c, a) {
      const id = a.positionals[0];
      const entry = await unwrap(c.api().DELETE("/api/v1/waitlist/{id}", { params: { path: { id } } }));
      c.out.result(entry, () => `${id} ${entry.status}`);
    },
  },
];
