import { serveOnEveryCore } from "./cluster.js";
import { loadConfig } from "./config.js";
import { DataDirLockedError, openDatabase } from "./db/client.js";

const usage = `gpuplane — a control plane for running a GPU cloud

usage:
  gpuplane serve                 run the server (PORT, DATABASE_URL or GPUPLANE_DATA_DIR, GPUPLANE_PROCESSES, …; see README)
  gpuplane migrate               apply database migrations and exit
  gpuplane admin-key [--label L] issue a new operator key into the database and print it (recovers operator access)
  gpuplane agent --server URL --token T [--once] [--dry-run]
                                 run the node agent on a GPU host
  gpuplane replay --nodes NODES.csv --tasks TASKS.csv [--policy fifo|greedy|gpuplane] [--fill] [--json]
                                 replay a GPU cluster trace through the scheduler (--help: all options)
`;

/** serve and migrate take no arguments: --help prints the usage, anything else is refused before a server starts. */
function noArguments(name: string, args: string[]): boolean {
  if (args.length === 0) return false;
  if (args.some((a) => a === "--help" || a === "-h")) {
    process.stdout.write(usage);
    return true;
  }
  process.stderr.write(
    `gpuplane ${name}: unexpected ${args.join(" ")} (it is configured by environment; see README)\n\n${usage}`,
  );
  process.exitCode = 2;
  return true;
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  async serve(args) {
    if (noArguments("serve", args)) return;
    await serveOnEveryCore(loadConfig());
  },
  async migrate(args) {
    if (noArguments("migrate", args)) return;
    const config = loadConfig();
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    await database.close();
    process.stdout.write(`migrations applied (${database.kind})\n`);
  },
};

export function registerCommand(name: string, run: (args: string[]) => Promise<void>) {
  commands[name] = run;
}

export async function main(argv: string[]) {
  const [name = "serve", ...args] = argv;
  if (name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage);
    // The customer and operator commands come from the CLI package (packages/cli), which lists its own.
    process.stdout.write(`\n${(await import("../packages/cli/src/help.js")).overview()}`);
    return;
  }
  const extra = await import("./cli-commands.js");
  extra.register(registerCommand);
  const command = commands[name];
  if (!command) {
    // Everything else (login, offers, instances, …) is the customer and operator CLI; it reports unknown commands.
    await (await import("../packages/cli/src/main.js")).main(argv);
    return;
  }
  try {
    await command(args);
  } catch (error) {
    if (error instanceof DataDirLockedError || (error as Error).message?.startsWith("configuration:")) {
      process.stderr.write(`gpuplane: ${(error as Error).message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
