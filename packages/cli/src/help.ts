/** `--help` for every command and group, and shell completion, all read from the commands' declarations. */
import { globalOptions } from "./args.js";
import { commands } from "./commands/index.js";
import type { Command, OptionSpec } from "./spec.js";

function optionLines(options: OptionSpec[]): string {
  const labels = options.map((o) => `--${o.name}${o.value ? ` ${o.value}` : ""}`);
  const width = Math.max(...labels.map((l) => l.length));
  return options.map((o, i) => `  ${labels[i].padEnd(width)}  ${o.help}${o.repeat ? " (repeatable)" : ""}`).join("\n");
}

export function commandHelp(command: Command): string {
  const usage = `gpuplane ${command.path.join(" ")}${command.args ? ` ${command.args}` : ""}${command.options?.length ? " [options]" : ""}`;
  const parts = [`${command.summary}\n`, `usage: ${usage}`];
  if (command.options?.length) parts.push(`\noptions:\n${optionLines(command.options)}`);
  parts.push(`\nglobal options:\n${optionLines(globalOptions)}`);
  return `${parts.join("\n")}\n`;
}

function commandLines(list: Command[]): string {
  const labels = list.map((c) => `${c.path.join(" ")}${c.args ? ` ${c.args}` : ""}`);
  const width = Math.max(...labels.map((l) => l.length));
  return list.map((c, i) => `  gpuplane ${labels[i].padEnd(width)}  ${c.summary}`).join("\n");
}

/** The commands a person may run (not the hidden `__complete`). */
const listed = () => commands.filter((c) => !c.path[0].startsWith("__"));

export function groupHelp(prefix: string[]): string {
  const list = listed().filter((c) => prefix.every((w, i) => c.path[i] === w));
  return `usage:\n${commandLines(list)}\n\nRun any of them with --help for its options.\n`;
}

export function overview(): string {
  return `gpuplane — rent GPUs and run the fleet behind them

${commandLines(listed())}

Every command takes --json (the API's data, for scripts), --profile NAME and --help.
Exit codes: 0 ok, 1 API error, 2 usage error, 3 not found, 4 insufficient credits, 5 --wait timed out.
Environment: GPUPLANE_URL and GPUPLANE_API_KEY override the saved profile.
`;
}

/** Words that may follow `words` on the command line: the next command words, or the command's options. */
export function candidates(words: string[]): string[] {
  const exact = commands.find((c) => c.path.length === words.length && c.path.every((w, i) => words[i] === w));
  const next = new Set<string>();
  for (const c of listed()) {
    if (c.path.length > words.length && words.every((w, i) => c.path[i] === w)) next.add(c.path[words.length]);
  }
  if (exact) for (const o of [...(exact.options ?? []), ...globalOptions]) next.add(`--${o.name}`);
  return [...next];
}

/**
 * The shell scripts ask the CLI itself for candidates (`gpuplane __complete <words>`), so completion always matches
 * the installed version's commands.
 */
export function completionScript(shell: string): string {
  if (shell === "bash") {
    return `# gpuplane bash completion: add to ~/.bashrc:  source <(gpuplane completion bash)
_gpuplane_complete() {
  local words=("\${COMP_WORDS[@]:1:COMP_CWORD-1}")
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(gpuplane __complete "\${words[@]}" 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _gpuplane_complete gpuplane
`;
  }
  return `#compdef gpuplane
# gpuplane zsh completion: add to ~/.zshrc:  source <(gpuplane completion zsh)
_gpuplane() {
  local -a candidates
  candidates=("\${(@f)$(gpuplane __complete "\${(@)words[2,CURRENT-1]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _gpuplane gpuplane
`;
}
