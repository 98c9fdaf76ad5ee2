// The agent's entry point: the single-file build starts here, and so does bin/gpuplane-agent.mjs from the sources.
import { RESTART_EXIT_CODE, runAgentCli } from "./cli.js";

try {
  const restart = await runAgentCli(process.argv.slice(2));
  process.exit(restart ? RESTART_EXIT_CODE : 0);
} catch (error) {
  process.stderr.write(`gpuplane-agent: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
