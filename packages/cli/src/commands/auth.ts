/** login, logout, whoami and profiles: where the CLI keeps its server URL and key. */
import { createGpuplane, unwrap } from "@gpuplane/sdk";
import { fields, table } from "../output.js";
import { configPath, readConfig, writeConfig } from "../profiles.js";
import { readSecret } from "../prompt.js";
import { type Command, flag, str, UsageError } from "../spec.js";

const DEFAULT_URL = "http://localhost:8080";

export const authCommands: Command[] = [
  {
    path: ["login"],
    summary: "Save a server URL and API key as a profile (the key is checked first)",
    anonymous: true,
    options: [
      { name: "url", value: "URL", help: `the server (default: the profile's, GPUPLANE_URL or ${DEFAULT_URL})` },
      { name: "api-key", value: "KEY", help: "the key (default: read from stdin, or asked for without echo)" },
      { name: "email", value: "EMAIL", help: "log in with email and password instead (a 12-hour session key)" },
    ],
    async run(c, a) {
      const config = readConfig(c.env);
      const name = str(a, "profile") ?? c.env.GPUPLANE_PROFILE ?? config.current ?? "default";
      const url = (str(a, "url") ?? c.env.GPUPLANE_URL ?? config.profiles[name]?.url ?? DEFAULT_URL).replace(
        /\/+$/,
        "",
      );
      if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError(`--url must be an http(s) URL, not "${url}"`);
      let apiKey = str(a, "api-key");
      const email = str(a, "email");
      if (email) {
        const password = c.env.GPUPLANE_PASSWORD ?? (await readSecret(`password for ${email}: `));
        const session = await unwrap(
          createGpuplane({ baseUrl: url }).POST("/api/v1/auth/login", { body: { email, password } }),
        );
        apiKey = session.api_key.key;
      }
      apiKey ??= c.env.GPUPLANE_API_KEY || (await readSecret(`API key for ${url}: `));
      if (!apiKey) throw new UsageError("no API key given (--api-key, stdin, or --email)");
      const me = await unwrap(createGpuplane({ baseUrl: url, apiKey }).GET("/api/v1/auth/whoami"));
      config.profiles[name] = { url, api_key: apiKey };
      config.current = name;
      writeConfig(c.env, config);
      c.out.result({ profile: name, url, ...me }, () => {
        const who = me.operator ? "operator" : `tenant ${me.tenant_id}`;
        return `logged in to ${url} as ${who} (profile "${name}", saved in ${configPath(c.env)})`;
      });
    },
  },
  {
    path: ["logout"],
    summary: "Forget a saved profile and its key",
    anonymous: true,
    async run(c, a) {
      const config = readConfig(c.env);
      const name = str(a, "profile") ?? config.current ?? "default";
      if (!config.profiles[name]) throw new UsageError(`no saved profile "${name}"`);
      delete config.profiles[name];
      if (config.current === name) config.current = Object.keys(config.profiles)[0];
      writeConfig(c.env, config);
      c.out.result({ removed: name }, () => `removed profile "${name}"`);
    },
  },
  {
    path: ["whoami"],
    summary: "Show the server, profile and key in use",
    async run(c) {
      const me = await unwrap(c.api().GET("/api/v1/auth/whoami"));
      c.out.result({ profile: c.profile.name, url: c.profile.url, source: c.profile.source, ...me }, () =>
        fields([
          ["server", c.profile.url],
          ["profile", c.profile.source === "environment" ? "(from GPUPLANE_URL / GPUPLANE_API_KEY)" : c.profile.name],
          ["key", me.key_id],
          ["operator", me.operator ? "yes" : "no"],
          ["tenant", me.tenant_id],
          ["permissions", me.permissions.join(", ")],
          ["scopes", me.scopes.join(", ")],
        ]),
      );
    },
  },
  {
    path: ["profiles"],
    summary: "List saved profiles (keys are not shown)",
    anonymous: true,
    options: [{ name: "show-keys", help: "also print each key's first characters" }],
    async run(c, a) {
      const config = readConfig(c.env);
      const rows = Object.entries(config.profiles).map(([name, p]) => ({
        name,
        url: p.url,
        current: name === config.current,
        key: flag(a, "show-keys") ? `${p.api_key.slice(0, 10)}…` : undefined,
      }));
      const columns: Parameters<typeof table<(typeof rows)[number]>>[1] = [
        ["", (r) => (r.current ? "*" : " ")],
        ["PROFILE", (r) => r.name],
        ["SERVER", (r) => r.url],
      ];
      if (flag(a, "show-keys")) columns.push(["KEY", (r) => r.key]);
      c.out.result(rows, () => table(rows, columns));
    },
  },
];
