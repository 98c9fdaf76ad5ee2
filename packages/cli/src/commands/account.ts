/** `signup` (a new account, saved as a profile like `login`) and `logs` (an instance's container output, or with --events its history). */
import { createGpuplane, unwrap } from "@gpuplane/sdk";
import { when } from "../output.js";
import { configPath, readConfig, writeConfig } from "../profiles.js";
import { readSecret } from "../prompt.js";
import { type Command, flag, str, UsageError } from "../spec.js";

const DEFAULT_URL = "http://localhost:8080";

export const accountCommands: Command[] = [
  {
    path: ["signup"],
    summary: "Create an account with email and password and save its API key as a profile (like login)",
    anonymous: true,
    options: [
      { name: "email", value: "EMAIL", help: "your email (required)" },
      { name: "name", value: "NAME", help: "the account's name (default: from the email)" },
      { name: "url", value: "URL", help: `the server (default: GPUPLANE_URL or ${DEFAULT_URL})` },
    ],
    async run(c, a) {
      const email = str(a, "email");
      if (!email) throw new UsageError("--email is required");
      const config = readConfig(c.env);
      const name = str(a, "profile") ?? c.env.GPUPLANE_PROFILE ?? config.current ?? "default";
      const url = (str(a, "url") ?? c.env.GPUPLANE_URL ?? config.profiles[name]?.url ?? DEFAULT_URL).replace(
        /\/+$/,
        "",
      );
      if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError(`--url must be an http(s) URL, not "${url}"`);
      const password = c.env.GPUPLANE_PASSWORD ?? (await readSecret(`choose a password for ${email}: `));
      if (!password) throw new UsageError("no password given (stdin, the prompt, or GPUPLANE_PASSWORD)");
      const session = await unwrap(
        createGpuplane({ baseUrl: url }).POST("/api/v1/auth/register", {
          body: { email, password, name: str(a, "name") },
        }),
      );
      config.profiles[name] = { url, api_key: session.api_key.key };
      config.current = name;
      writeConfig(c.env, config);
      const { key: _key, ...apiKey } = session.api_key;
      c.out.result({ profile: name, url, tenant: session.tenant, api_key: apiKey }, () =>
        [
          `signed up at ${url} as tenant ${session.tenant.id} (${email}); profile "${name}" saved in ${configPath(c.env)}`,
          "next: gpuplane ssh-keys add, then gpuplane offers",
        ].join("\n"),
      );
    },
  },
  {
    path: ["logs"],
    summary: "An instance's container output (the last lines its node agent sent); --events for its status history",
    args: "<instance>",
    options: [
      { name: "tail", value: "N", help: "the last N lines (default 200)" },
      { name: "follow", help: "keep printing new lines (polls every 2 s; Ctrl-C stops)" },
      { name: "events", help: "what the API records about the instance instead: created, running, stopped, why" },
    ],
    async run(c, a) {
      const id = a.positionals[0];
      if (!id) throw new UsageError("name the instance: gpuplane logs <instance>");
      if (flag(a, "events")) return showEvents(c, id);
      const tail = Number(str(a, "tail") ?? 200);
      if (!Number.isInteger(tail) || tail < 1)
        throw new UsageError("--tail must be a whole number of lines, 1 or more");
      const read = (since?: string) =>
        unwrap(
          c.api().GET("/api/v1/instances/{id}/logs", {
            params: { path: { id }, query: { tail, ...(since ? { since } : {}) } },
          }),
        );
      let page = await read();
      if (!page.available || !flag(a, "follow")) {
        c.out.result(page, () =>
          page.available
            ? page.lines.map((l) => l.line).join("\n") || "(no output from the container yet)"
            : `no container logs: ${page.reason}`,
        );
        return;
      }
      for (;;) {
        for (const l of page.lines) c.out.write(c.out.json ? `${JSON.stringify(l)}\n` : `${l.line}\n`);
        await new Promise((resolve) => setTimeout(resolve, 2000));
        page = await read(page.next_since ?? undefined);
      }
    },
  },
];

/** The old `logs`: the instance's life as the API records it. */
async function showEvents(c: Parameters<Command["run"]>[0], id: string) {
  const i = await unwrap(c.api().GET("/api/v1/instances/{id}", { params: { path: { id } } }));
  const lines: { at: string; text: string }[] = [{ at: i.createdAt, text: `created (${i.planId} in ${i.region})` }];
  if (i.runningSince) lines.push({ at: i.runningSince, text: "running" });
  if (i.stoppedAt) lines.push({ at: i.stoppedAt, text: "stopped" });
  if (i.deletedAt) lines.push({ at: i.deletedAt, text: "deleted" });
  lines.sort((x, y) => x.at.localeCompare(y.at));
  const now = i.statusReason ? `${i.status}: ${i.statusReason}` : i.status;
  c.out.result({ instance: i.id, status: i.status, status_reason: i.statusReason, events: lines }, () =>
    [...lines.map((l) => `${when(l.at)}  ${l.text}`), `${when(i.updatedAt)}  now ${now}`].join("\n"),
  );
}
