/** `jobs submit|list|logs|cancel`: batch work on the fleet's GPUs (operator keys, or a tenant's own jobs). */
import { collect, paginate, type Schema, unwrap } from "@gpuplane/sdk";
import { table, when } from "../output.js";
import { type Command, int, intArg, list, str, UsageError } from "../spec.js";

type Job = Schema<"Job">;

export const jobCommands: Command[] = [
  {
    path: ["jobs", "submit"],
    summary: "Queue a job on a cluster",
    args: "<name>",
    options: [
      { name: "cluster", value: "ID", help: "the cluster to run on (required)" },
      { name: "gpus", value: "N", help: "GPUs it needs (default 1)" },
      { name: "gpu-type", value: "MODEL", help: "only this GPU model" },
      { name: "priority", value: "1-10", help: "1 runs first (default 5)" },
      { name: "command", value: "CMD", help: "what to run (sh -c, inside the image on a container node)" },
      { name: "image", value: "REF", help: "the container image it runs in (default: the node's --job-image)" },
      { name: "tenant", value: "ID", help: "operators: the tenant it is for" },
      { name: "env", value: "KEY=VALUE", help: "an environment variable", repeat: true },
    ],
    async run(c, a) {
      const cluster = str(a, "cluster");
      if (!cluster) throw new UsageError("--cluster is required");
      const env = Object.fromEntries(
        list(a, "env").map((pair) => {
          const at = pair.indexOf("=");
          if (at < 1) throw new UsageError(`--env needs KEY=VALUE, not "${pair}"`);
          return [pair.slice(0, at), pair.slice(at + 1)];
        }),
      );
      const tenant = str(a, "tenant");
      const job = await unwrap(
        c.api().POST("/api/v1/jobs", {
          body: {
            cluster_id: intArg(cluster, "--cluster"),
            name: a.positionals[0],
            gpu_count: int(a, "gpus"),
            gpu_type: str(a, "gpu-type"),
            priority: int(a, "priority"),
            command: str(a, "command"),
            image: str(a, "image"),
            tenant_id: tenant ? intArg(tenant, "--tenant") : undefined,
            env: Object.keys(env).length ? env : undefined,
          },
        }),
      );
      c.out.result(job, () => `job ${job.id} ${job.status}${job.block_reason ? ` (${job.block_reason})` : ""}`);
    },
  },
  {
    path: ["jobs", "list"],
    summary: "Jobs",
    options: [
      { name: "status", value: "STATUS", help: "only jobs in this state" },
      { name: "cluster", value: "ID", help: "only this cluster's jobs" },
    ],
    async run(c, a) {
      const api = c.api();
      const cluster = str(a, "cluster");
      const query = {
        status: str(a, "status") as Job["status"] | undefined,
        cluster_id: cluster ? intArg(cluster, "--cluster") : undefined,
      };
      const jobs = await collect(
        paginate((cursor) => api.GET("/api/v1/jobs", { params: { query: { ...query, cursor } } })),
      );
      c.out.result(jobs, () =>
        table(jobs, [
          ["ID", (j: Job) => j.id],
          ["NAME", (j) => j.name],
          ["STATUS", (j) => j.status],
          ["GPUS", (j) => `${j.gpu_count}${j.gpu_type ? `× ${j.gpu_type}` : ""}`],
          ["PRIORITY", (j) => j.priority],
          ["NODE", (j) => j.node_id],
          ["CREATED", (j) => when(j.created_at)],
          ["WHY WAITING", (j) => (j.pending_reason ? `${j.pending_reason.code}: ${j.pending_reason.message}` : "")],
        ]),
      );
    },
  },
  {
    path: ["jobs", "logs"],
    summary: "The last output of a job (its tail, as the node agent reported it)",
    args: "<id>",
    async run(c, a) {
      const id = intArg(a.positionals[0], "job id");
      const job = await unwrap(c.api().GET("/api/v1/jobs/{id}", { params: { path: { id } } }));
      c.out.result({ id: job.id, status: job.status, exit_code: job.exit_code, output_tail: job.output_tail }, () => {
        const exit = job.exit_code === null ? "" : `, exit code ${job.exit_code}`;
        return `${job.output_tail ?? "(no output yet)"}\n-- job ${job.id} ${job.status}${exit}`;
      });
    },
  },
  {
    path: ["jobs", "cancel"],
    summary: "Cancel a job",
    args: "<id>",
    async run(c, a) {
      const id = intArg(a.positionals[0], "job id");
      const job = await unwrap(c.api().POST("/api/v1/jobs/{id}/cancel", { params: { path: { id } } }));
      c.out.result(job, () => `job ${job.id} ${job.status}`);
    },
  },
];
