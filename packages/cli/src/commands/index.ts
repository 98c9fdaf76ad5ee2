/** Every command of the CLI, in the order `--help` lists them. */
import { candidates, completionScript } from "../help.js";
import { type Command, UsageError } from "../spec.js";
import { accountCommands } from "./account.js";
import { auditCommands } from "./audit.js";
import { authCommands } from "./auth.js";
import { billingCommands } from "./billing.js";
import { instanceCommands } from "./instances.js";
import { jobCommands } from "./jobs.js";
import { keyCommands, webhookCommands } from "./keys.js";
import { offerCommands } from "./offers.js";
import { operatorCommands } from "./operator.js";
import { sshKeyCommands } from "./ssh-keys.js";
import { volumeCommands } from "./volumes.js";
import { waitlistCommands } from "./waitlist.js";

const shellCommands: Command[] = [
  {
    path: ["completion"],
    summary: "Print the shell completion script: source <(gpuplane completion bash|zsh)",
    args: "<bash|zsh>",
    anonymous: true,
    async run(c, a) {
      const shell = a.positionals[0];
      if (shell !== "bash" && shell !== "zsh") throw new UsageError(`completion is for bash or zsh, not "${shell}"`);
      c.out.write(completionScript(shell));
    },
  },
];

/** Not listed in help: what the completion scripts call. */
export const completeCommand: Command = {
  path: ["__complete"],
  summary: "(used by shell completion)",
  positionals: { min: 0, max: Number.POSITIVE_INFINITY },
  anonymous: true,
  async run(c, a) {
    c.out.write(candidates(a.positionals.filter((w) => !w.startsWith("-"))).join("\n") + "\n");
  },
};

export const commands: Command[] = [
  ...authCommands,
  ...accountCommands,
  ...offerCommands,
  ...instanceCommands,
  ...sshKeyCommands,
  ...auditCommands,
  ...volumeCommands,
  ...waitlistCommands,
  ...billingCommands,
  ...keyCommands,
  ...webhookCommands,
  ...operatorCommands,
  ...jobCommands,
  ...shellCommands,
  completeCommand,
];
