/** `volumes list|create|show|rm|attach|detach`: block storage that outlives instances. */
import { collect, paginate, type Schema, unwrap } from "@gpuplane/sdk";
import { fields, table, usd, when } from "../output.js";
import { type Command, int, str, UsageError } from "../spec.js";

type Volume = Schema<"Volume">;

const show = (v: Volume) =>
  fields([
    ["id", v.id],
    ["name", v.name],
    ["size", `${v.size_gb} GB ${v.type}`],
    ["region", v.region],
    ["status", v.status],
    ["attached to", v.instance_id],
    ["price", `${usd(v.price_per_gb_month)}/GB-month`],
    ["created", when(v.created_at)],
  ]);

export const volumeCommands: Command[] = [
  {
    path: ["volumes", "list"],
    summary: "Your volumes",
    async run(c) {
      const api = c.api();
      const volumes = await collect(
        paginate((cursor) => api.GET("/api/v1/volumes", { params: { query: { cursor } } })),
      );
      c.out.result(volumes, () =>
        table(volumes, [
          ["ID", (v) => v.id],
          ["NAME", (v) => v.name],
          ["SIZE", (v) => `${v.size_gb}GB`],
          ["TYPE", (v) => v.type],
          ["REGION", (v) => v.region],
          ["STATUS", (v) => v.status],
          ["INSTANCE", (v) => v.instance_id],
        ]),
      );
    },
  },
  {
    path: ["volumes", "create"],
    summary: "Create a volume",
    options: [
      { name: "name", value: "NAME", help: "its name (required)" },
      { name: "size", value: "GB", help: "size in GB (required)" },
      { name: "region", value: "REGION", help: "its region (required)" },
      { name: "type", value: "nvme|hdd", help: "storage type (default nvme)" },
    ],
    async run(c, a) {
      const name = str(a, "name");
      const size = int(a, "size");
      const region = str(a, "region");
      if (!name || size === undefined || !region) throw new UsageError("--name, --size and --region are required");
      const type = str(a, "type") as "nvme" | "hdd" | undefined;
      const volume = await unwrap(c.api().POST("/api/v1/volumes", { body: { name, size_gb: size, region, type } }));
      c.out.result(volume, () => show(volume));
    },
  },
  {
    path: ["volumes", "show"],
    summary: "One volume",
    args: "<id>",
    async run(c, a) {
      const volume = await unwrap(c.api().GET("/api/v1/volumes/{id}", { params: { path: { id: a.positionals[0] } } }));
      c.out.result(volume, () => show(volume));
    },
  },
  {
    path: ["volumes", "rm"],
    summary: "Delete a volume and its data",
    args: "<id>",
    async run(c, a) {
      const id = a.positionals[0];
      const volume = await unwrap(c.api().DELETE("/api/v1/volumes/{id}", { params: { path: { id } } }));
      c.out.result(volume, () => `${id} ${volume.status}`);
    },
  },
  {
    path: ["volumes", "attach"],
    summary: "Attach a volume to an instance",
    args: "<volume-id> <instance-id>",
    async run(c, a) {
      const [volumeId, id] = a.positionals;
      const result = await unwrap(
        c.api().POST("/api/v1/instances/{id}/volumes", { params: { path: { id } }, body: { volume_id: volumeId } }),
      );
      c.out.result(result, () => `attached ${volumeId} to ${id}`);
    },
  },
  {
    path: ["volumes", "detach"],
    summary: "Detach a volume from its instance",
    args: "<volume-id> <instance-id>",
    async run(c, a) {
      const [volumeId, id] = a.positionals;
      const result = await unwrap(
        c.api().DELETE("/api/v1/instances/{id}/volumes/{volume_id}", { params: { path: { id, volume_id: volumeId } } }),
      );
      c.out.result(result, () => `detached ${volumeId} from ${id}`);
    },
  },
];
