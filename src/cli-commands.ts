/** Commands owned by other areas, loaded only when run. */
export function register(add: (name: string, run: (args: string[]) => Promise<void>) => void): void {
  add("replay", async (args) => (await import("./domain/jobs/replay/cli.js")).runReplayCli(args));
  add("admin-key", async (args) => (await import("./domain/identity/admin-key-cli.js")).runAdminKeyCli(args));
  add("agent", async (args) => (await import("../packages/agent/src/cli.js")).runAgentCli(args));
}
