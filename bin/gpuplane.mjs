#!/usr/bin/env node
// Customer and operator commands (login, offers, instances, …, --version) run from the CLI package's bundle when it is
// present and current, so they start without loading tsx. Everything else (serve, migrate, agent, replay, help, or
// any command with a stale bundle) runs the TypeScript sources through tsx's loader: no build step between a clone and
// a running server.
import { pathToFileURL } from "node:url";
import { bundlePath } from "../packages/cli/bin/bundle.mjs";

const argv = process.argv.slice(2);
const bundle = argv.length ? bundlePath() : undefined;
const cli = bundle ? await import(pathToFileURL(bundle).href) : undefined;
if (cli && (argv[0] === "--version" || argv[0] === "version" || cli.findCommand(argv).command)) {
  await cli.main(argv);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  const { main } = await import("../src/cli.ts");
  await main(argv);
}
