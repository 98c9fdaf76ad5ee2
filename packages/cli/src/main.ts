/**
 * The `gpuplane` customer and operator CLI: finds the command the words name, parses its options against its
 * declaration, runs it, and maps failures to exit codes scripts can rely on:
 * 0 ok · 1 API or connection error · 2 usage error · 3 not found · 4 insufficient credits · 5 `--wait` timed out.
 */
import {
  createGpuplane,
  GpuplaneError,
  InsufficientCreditsError,
  NotFoundError,
  WaitTimeoutError,
} from "@gpuplane/sdk";
import { checkPositionals, parseArgs } from "./args.js";
import { commands } from "./commands/index.js";
import { commandHelp, groupHelp, overview } from "./help.js";
import { createOutput } from "./output.js";
import { resolveProfile } from "./profiles.js";
import { ChildExit, type Command, type CommandContext, UsageError } from "./spec.js";

export const VERSION = "0.1.0";

export const exitCodes = { ok: 0, api: 1, usage: 2, notFound: 3, insufficientCredits: 4, timeout: 5 } as const;

/** The command named by the leading words of argv (the longest match), and the words after it. */
export function findCommand(argv: string[]): { command?: Command; rest: string[]; prefix: string[] } {
  let best: Command | undefined;
  for (const command of commands) {
    if (command.path.every((word, i) => argv[i] === word) && command.path.length > (best?.path.length ?? 0)) {
      best = command;
    }
  }
  if (best) return { command: best, rest: argv.slice(best.path.length), prefix: best.path };
  const prefix: string[] = [];
  while (commands.some((c) => [...prefix, argv[prefix.length]].every((w, i) => c.path[i] === w))) {
    prefix.push(argv[prefix.length]);
  }
  return { rest: argv.slice(prefix.length), prefix };
}

export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const json = argv.includes("--json");
  const out = createOutput(json, process.stdout, process.stderr);
  const { command, rest, prefix } = findCommand(argv);
  if (!command) {
    const asksHelp = argv.length === 0 || ["help", "--help", "-h"].includes(argv[prefix.length] ?? "--help");
    if (prefix.length && asksHelp) {
      process.stdout.write(groupHelp(prefix));
      return exitCodes.ok;
    }
    if (argv[0] === "--version" || argv[0] === "version") {
      process.stdout.write(`gpuplane ${VERSION}\n`);
      return exitCodes.ok;
    }
    if (prefix.length === 0 && asksHelp) {
      process.stdout.write(overview());
      return exitCodes.ok;
    }
    const words = argv.slice(0, prefix.length + 1).join(" ");
    process.stderr.write(`gpuplane: unknown command "${words}"\n\n${prefix.length ? groupHelp(prefix) : overview()}`);
    return exitCodes.usage;
  }
  try {
    const parsed = parseArgs(command, rest);
    if (parsed.options.help) {
      process.stdout.write(commandHelp(command));
      return exitCodes.ok;
    }
    checkPositionals(command, parsed);
    const profile = resolveProfile(
      env,
      typeof parsed.options.profile === "string" ? parsed.options.profile : undefined,
    );
    const context: CommandContext = {
      profile,
      out,
      env,
      api() {
        if (!profile.url || (!profile.apiKey && !command.anonymous)) {
          const saved = profile.saved.length ? ` (saved profiles: ${profile.saved.join(", ")})` : "";
          throw new UsageError(
            `not logged in as profile "${profile.name}"${saved}: run gpuplane login, or set GPUPLANE_URL and GPUPLANE_API_KEY`,
            false,
          );
        }
        return createGpuplane({
          baseUrl: profile.url,
          apiKey: profile.apiKey,
          headers: { "user-agent": `gpuplane-cli/${VERSION}` },
        });
      },
    };
    await command.run(context, parsed);
    return exitCodes.ok;
  } catch (error) {
    return report(error, command, json);
  }
}

/** Prints a failure the way a person (or, with --json, a script) can act on it, and returns its exit code. */
function report(error: unknown, command: Command, json: boolean): number {
  const code = exitCodeFor(error);
  if (error instanceof ChildExit) return code;
  if (json) {
    const e = error as Partial<GpuplaneError> & Error;
    const body = {
      error: e.message,
      code: e instanceof GpuplaneError ? e.code : e.name,
      status: e instanceof GpuplaneError ? e.status : undefined,
      request_id: e instanceof GpuplaneError ? e.requestId : undefined,
      exit_code: code,
    };
    process.stderr.write(`${JSON.stringify(body)}\n`);
  } else if (error instanceof GpuplaneError) {
    const id = error.requestId ? `, request id ${error.requestId}` : "";
    process.stderr.write(`gpuplane: ${forPeople(error.message)} (${error.code}${id})\n`);
  } else if (error instanceof UsageError) {
    process.stderr.write(`gpuplane: ${error.message}\n${error.showUsage ? `\n${commandHelp(command)}` : ""}`);
  } else {
    process.stderr.write(`gpuplane: ${(error as Error).message ?? String(error)}\n`);
  }
  return code;
}

/** API routes the server's messages point to, and the command a CLI user runs instead. */
const routeCommands: [RegExp, string][] = [
  [/GET \/api\/v1\/plans( or GET \/api\/v1\/gpus\/available)?/g, "run `gpuplane offers`"],
  [/GET \/api\/v1\/gpus\/available/g, "run `gpuplane offers`"],
  [/GET \/api\/v1\/(templates|images)/g, "run `gpuplane images`"],
  [/GET \/api\/v1\/regions/g, "run `gpuplane offers` for the regions"],
];

/** A server message with the API routes it names replaced by the commands that show the same thing. */
export function forPeople(message: string): string {
  return routeCommands.reduce((text, [route, command]) => text.replace(route, command), message);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof ChildExit) return error.code;
  if (error instanceof UsageError) return exitCodes.usage;
  if (error instanceof NotFoundError) return exitCodes.notFound;
  if (error instanceof InsufficientCreditsError) return exitCodes.insufficientCredits;
  if (error instanceof WaitTimeoutError) return exitCodes.timeout;
  return exitCodes.api;
}

export async function main(argv: string[]) {
  const code = await run(argv);
  // Let buffered output drain before the exit code is set; process.exit would cut a piped stdout short.
  process.exitCode = code;
}
