/** Commands owned by other areas, loaded only when run. */
export function register(add: (name: string, run: (args: string[]) => Promise<void>) => void): void {
  add("replay", async (args) => (await import("./domain/jobs/replay/cli.js")).runReplayCli(args));
  add("admin-key", async (args) => (await import("./domain/identity/admin-key-cli.js")).runAdminKeyCli(args));
  add("agent", async (args) => {
    const agent = await import("../packages/agent/src/cli.js");
    // An upgrade restarts the agent: its supervisor (systemd, install.sh's run.sh) starts it again on this code.
    if (await agent.runAgentCli(args)) process.exit(agent.RESTART_EXIT_CODE);
  });
}
