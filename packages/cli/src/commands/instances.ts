/** `instances launch|list|show|stop|start|delete` and `ssh`. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { collect, type Instance, paginate, unwrap, waitForInstance } from "@gpuplane/sdk";
import { duration, fields, table, usd, when } from "../output.js";
import { createProgress } from "../progress.js";
import { ChildExit, type Command, type CommandContext, flag, int, list, str, UsageError } from "../spec.js";

const get = (c: CommandContext, id: string) =>
  unwrap(c.api().GET("/api/v1/instances/{id}", { params: { path: { id } } }));

function showInstance(i: Instance): string {
  return fields([
    ["id", i.id],
    ["name", i.name],
    ["status", i.statusReason ? `${i.status} (${i.statusReason})` : i.status],
    ["billing", i.billedWhileStopped],
    ["plan", `${i.planId} (${i.clusterType})`],
    ["gpus", `${i.gpuCount}× ${i.gpuType}`],
    ["region", i.region],
    ["image", i.templateSlug],
    ["price", `${usd(i.pricePerHour)}/hour`],
    ["ssh", i.sshCommand],
    ["volumes", i.volumeIds.join(", ")],
    ["created", when(i.createdAt)],
    ["running since", when(i.runningSince)],
  ]);
}

/** Waits for `running` with live progress, then prints the ssh command. */
async function waitAndReport(c: CommandContext, instance: Instance, timeoutSeconds: number, until = "running") {
  const progress = createProgress(process.stderr, Boolean(process.stderr.isTTY) && !c.out.json, instance.id);
  try {
    const done = await waitForInstance(c.api(), instance.id, {
      until: until as Instance["status"],
      timeoutMs: timeoutSeconds * 1000,
      intervalMs: Number(c.env.GPUPLANE_POLL_MS ?? 1000),
      onChange: (i) => progress.state(i.status),
    });
    progress.stop();
    c.out.result(done, () =>
      [`${done.id} is ${done.status} after ${duration(progress.elapsedSeconds())}`, done.sshCommand ?? ""].join("\n"),
    );
  } finally {
    progress.stop();
  }
}

const waitOptions = [
  { name: "wait", help: "wait until it is running, showing each state change" },
  { name: "timeout", value: "SECONDS", help: "give up waiting after this long (default 600; exit code 5)" },
];

export const instanceCommands: Command[] = [
  {
    path: ["instances", "launch"],
    summary: "Launch a GPU instance (an offer's plan or cluster type) and optionally wait for it",
    args: "<plan>",
    options: [
      { name: "image", value: "SLUG", help: "OS image / template (default pytorch-cuda; see the images command)" },
      { name: "region", value: "REGION", help: "where to run it (default: any region with capacity)" },
      { name: "name", value: "NAME", help: "a name for it (default: a generated one)" },
      { name: "ssh-key", value: "ID", help: "an SSH key id to install (default: all your keys)", repeat: true },
      { name: "volume", value: "ID", help: "a volume to attach", repeat: true },
      ...waitOptions,
    ],
    async run(c, a) {
      const api = c.api();
      let sshKeyIds = list(a, "ssh-key");
      if (sshKeyIds.length === 0) {
        sshKeyIds = (
          await collect(paginate((cursor) => api.GET("/api/v1/ssh-keys", { params: { query: { cursor } } })))
        ).map((k) => k.id);
        if (sshKeyIds.length === 0)
          throw new UsageError("you have no SSH keys yet: add one with gpuplane ssh-keys add");
      }
      const instance = await unwrap(
        api.POST("/api/v1/instances", {
          body: {
            name: str(a, "name") ?? `gpu-${randomBytes(3).toString("hex")}`,
            planId: a.positionals[0],
            templateSlug: str(a, "image") ?? "pytorch-cuda",
            region: str(a, "region"),
            sshKeyIds,
            volumeIds: list(a, "volume").length ? list(a, "volume") : undefined,
          },
        }),
      );
      if (!flag(a, "wait")) {
        c.out.result(
          instance,
          () => `${instance.id} ${instance.status}: follow it with gpuplane instances show ${instance.id}`,
        );
        return;
      }
      c.out.note(`launched ${instance.id} (${instance.planId} in ${instance.region})`);
      await waitAndReport(c, instance, int(a, "timeout", 600)!);
    },
  },
  {
    path: ["instances", "list"],
    summary: "Your instances",
    options: [
      { name: "status", value: "STATUS", help: "only those in this state (running, stopped, …)" },
      { name: "all", help: "include deleted ones" },
    ],
    async run(c, a) {
      const api = c.api();
      const query = {
        status: str(a, "status") as Instance["status"] | undefined,
        include_deleted: flag(a, "all") ? ("true" as const) : undefined,
      };
      const rows = await collect(
        paginate((cursor) => api.GET("/api/v1/instances", { params: { query: { ...query, cursor, limit: 200 } } })),
      );
      c.out.result(rows, () =>
        table(rows, [
          ["ID", (i) => i.id],
          ["NAME", (i) => i.name],
          ["STATUS", (i) => i.status],
          ["PLAN", (i) => i.planId],
          ["GPUS", (i) => `${i.gpuCount}× ${i.gpuType}`],
          ["REGION", (i) => i.region],
          ["PRICE/H", (i) => usd(i.pricePerHour)],
          ["SSH", (i) => i.sshCommand],
        ]),
      );
    },
  },
  {
    path: ["instances", "show"],
    summary: "One instance in full",
    args: "<id>",
    async run(c, a) {
      const instance = await get(c, a.positionals[0]);
      c.out.result(instance, () => showInstance(instance));
    },
  },
  ...(["stop", "start"] as const).map(
    (action): Command => ({
      path: ["instances", action],
      summary:
        action === "stop"
          ? "Stop an instance (billing stops when the stop is confirmed, unless its cloud charges stopped instances: it says so)"
          : "Start a stopped instance",
      args: "<id>",
      options: action === "start" ? waitOptions : [],
      async run(c, a) {
        const id = a.positionals[0];
        const instance = await unwrap(c.api().POST(`/api/v1/instances/{id}/${action}`, { params: { path: { id } } }));
        if (action === "start" && flag(a, "wait")) return waitAndReport(c, instance, int(a, "timeout", 600)!);
        // A stop on a cloud that keeps charging a stopped instance its full price says so.
        c.out.result(instance, () =>
          action === "stop" && instance.billedWhileStopped
            ? `${instance.id} ${instance.status} (${instance.billedWhileStopped})`
            : `${instance.id} ${instance.status}`,
        );
      },
    }),
  ),
  {
    path: ["instances", "delete"],
    summary: "Delete an instance (its data is gone; billing stops)",
    args: "<id>",
    async run(c, a) {
      const id = a.positionals[0];
      const instance = await unwrap(c.api().DELETE("/api/v1/instances/{id}", { params: { path: { id } } }));
      c.out.result(instance, () => `${instance.id} ${instance.status}`);
    },
  },
  {
    path: ["ssh"],
    summary: "Open an SSH session to a running instance (arguments after -- go to ssh)",
    args: "<id> [-- ssh args]",
    positionals: { min: 1, max: Number.POSITIVE_INFINITY },
    options: [
      { name: "print", help: "print the ssh command instead of running it" },
      { name: "identity", value: "FILE", help: "the private key to use (ssh -i)" },
    ],
    async run(c, a) {
      const [id, ...extra] = a.positionals;
      const instance = await get(c, id);
      if (instance.status !== "running" || !instance.ipAddress) {
        throw new UsageError(`${id} is ${instance.status}, not running: there is nothing to connect to yet`);
      }
      // A simulated instance has an address no machine answers on: real ssh would hang until its timeout. --print and
      // a stand-in program (GPUPLANE_SSH, as tests use) still get the command.
      if (instance.provider === "simulator" && !flag(a, "print") && !c.env.GPUPLANE_SSH) {
        throw new UsageError(
          `${id} is a simulated instance (this server's simulator provider): there is no machine behind it to SSH into`,
          false,
        );
      }
      const identity = str(a, "identity");
      const args = [
        "-p",
        String(instance.sshPort ?? 22),
        ...(identity ? ["-i", identity] : []),
        `${instance.sshUser ?? "root"}@${instance.ipAddress}`,
        ...extra,
      ];
      if (flag(a, "print")) {
        c.out.result({ command: "ssh", args }, () => `ssh ${args.join(" ")}`);
        return;
      }
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(c.env.GPUPLANE_SSH ?? "ssh", args, { stdio: "inherit" });
        child.on("error", (error) => reject(new Error(`cannot run ssh: ${error.message}`)));
        child.on("exit", (status) => resolve(status ?? 1));
      });
      if (code !== 0) throw new ChildExit(code);
    },
  },
];
