/**
 * Argument parsing against a command's declaration: `--name value`, `--name=value`, flags, repeats, and `--` ending
 * options (what follows goes to the command, e.g. extra ssh arguments). Unknown options are usage errors, so a typo
 * never silently changes what a command does.
 */
import { type Command, type OptionSpec, type Parsed, UsageError } from "./spec.js";

export const globalOptions: OptionSpec[] = [
  { name: "json", help: "print the API's data as JSON (for scripts)" },
  { name: "profile", value: "NAME", help: "use this saved profile (default: the one `login` saved last)" },
  { name: "help", help: "show this help" },
];

export function parseArgs(command: Command, argv: string[]): Parsed {
  const specs = [...(command.options ?? []), ...globalOptions];
  const parsed: Parsed = { positionals: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === "--") {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (word === "-h") {
      parsed.options.help = true;
      continue;
    }
    if (!word.startsWith("--") || word === "-") {
      parsed.positionals.push(word);
      continue;
    }
    const eq = word.indexOf("=");
    const name = word.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (!spec.value) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      parsed.options[name] = true;
      continue;
    }
    const value = eq >= 0 ? word.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value (${spec.value})`);
    if (spec.repeat) parsed.options[name] = [...((parsed.options[name] as string[] | undefined) ?? []), value];
    else parsed.options[name] = value;
  }
  return parsed;
}

/** Checks the number of positionals against the declaration (`<a> <b> [c]`). */
export function checkPositionals(command: Command, parsed: Parsed) {
  const words = command.args?.match(/<[^>]+>|\[[^\]]+\]/g) ?? [];
  const min = command.positionals?.min ?? words.filter((w) => w.startsWith("<")).length;
  const max = command.positionals?.max ?? words.length;
  if (parsed.positionals.length < min) {
    throw new UsageError(`missing ${words.slice(parsed.positionals.length, min).join(" ")}`);
  }
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`);
  }
}
