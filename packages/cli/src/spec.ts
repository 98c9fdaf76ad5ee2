/** How a command is declared: once, and help, completion and argument checks all read the declaration. */
import type { GpuplaneClient } from "@gpuplane/sdk";
import type { Output } from "./output.js";
import type { ResolvedProfile } from "./profiles.js";

export interface OptionSpec {
  name: string;
  /** Placeholder of the option's value (`ID`, `USD`); absent for a flag. */
  value?: string;
  help: string;
  /** May be given more than once (`--ssh-key a --ssh-key b`). */
  repeat?: boolean;
}

export interface Parsed {
  positionals: string[];
  options: Record<string, string | boolean | string[] | undefined>;
}

export interface CommandContext {
  /** A client for the resolved profile; refuses with a usage error when no server or key is known. */
  api(): GpuplaneClient;
  /** The profile as resolved from flags, environment and the config file (for login/whoami). */
  profile: ResolvedProfile;
  out: Output;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  /** Words that select the command: ["instances", "launch"]. */
  path: string[];
  summary: string;
  /** Positional arguments as shown in usage: "<id>", "[path]". */
  args?: string;
  /** How many positionals it takes (default: as many `<…>` as `args` names, none extra). */
  positionals?: { min: number; max: number };
  options?: OptionSpec[];
  /** Commands that need no key (login, completion, offers). */
  anonymous?: boolean;
  run(c: CommandContext, a: Parsed): Promise<void>;
}

/** A program the command ran (ssh) exited non-zero: the CLI exits with the same code and adds nothing. */
export class ChildExit extends Error {
  override name = "ChildExit";
  constructor(readonly code: number) {
    super(`exited with ${code}`);
  }
}

/** A mistake in how the command was called: exit code 2 with the command's usage. */
export class UsageError extends Error {
  override name = "UsageError";
  constructor(
    message: string,
    /** Whether the command's usage helps (a wrong option) or only adds noise (not logged in). */
    readonly showUsage = true,
  ) {
    super(message);
  }
}

export function str(a: Parsed, name: string): string | undefined {
  const value = a.options[name];
  return typeof value === "string" ? value : undefined;
}

export function list(a: Parsed, name: string): string[] {
  const value = a.options[name];
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
}

export function flag(a: Parsed, name: string): boolean {
  return a.options[name] === true;
}

export function int(a: Parsed, name: string, fallback?: number): number | undefined {
  const value = str(a, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, not "${value}"`);
  return Number(value);
}

/** A numeric id argument (fleet and tenant ids are integers). */
export function intArg(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${what} must be a number, not "${value}"`);
  return Number(value);
}
