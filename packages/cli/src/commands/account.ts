/** `signup` (a new account, saved as a profile like `login`) and `logs` (what the API records about an instance). */
import { createGpuplane, unwrap } from "@gpuplane/sdk";
import { when } from "../output.js";
import { configPath, readConfig, writeConfig } from "../profiles.js";
import { readSecret } from "../prompt.js";
import { type Command, str, UsageError } from "../spec.js";

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
    summary: "An instance's history as the API records it: created, running, stopped, deleted and why",
    args: "<instance>",
    async run(c, a) {
      const id = a.positionals[0];
      const i = await unwrap(c.api().GET("/api/v1/instances/{id}", { params: { path: { id } } }));
      const lines: { at: string; text: string }[] = [{ at: i.createdAt, text: `created (${i.planId} in ${i.region})` }];
      if (i.runningSince) lines.push({ at: i.runningSince, text: "running" });
      if (i.stoppedAt) lines.push({ at: i.stoppedAt, text: "stopped" });
      if (i.deletedAt) lines.push({ at: i.deletedAt, text: "deleted" });
      lines.sort((x, y) => x.at.localeCompare(y.at));
      const now = i.statusReason ? `${i.status}: ${i.statusReason}` : i.status;
      c.out.result({ instance: i.id, status: i.status, status_reason: i.statusReason, events: lines }, () =>
        [
          ...lines.map((l) => `${when(l.at)}  ${l.text}`),
          `${when(i.updatedAt)}  now ${now}`,
          "",
          "(container output is not offered by this server's API; gpuplane ssh <instance> to read it on the machine)",
        ].join("\n"),
      );
    },
  },
];
