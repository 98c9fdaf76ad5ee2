import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { importGraph, packageName } from "../sdk/imports.js";
import { CLI_BIN, runCli, tempHome, writeScript } from "./run-cli.js";

const run = promisify(execFile);

describe("gpuplane CLI without a server", () => {
  const { home, remove } = tempHome();
  afterAll(remove);
  const cli = (args: string[]) => runCli(args, { home });

  it("completes commands and options in bash through the script it prints", async () => {
    // `gpuplane` on PATH, as after `npm install -g @gpuplane/cli`.
    writeScript(home, "gpuplane", `exec "${process.execPath}" "${CLI_BIN}" "$@"`);
    const script = (await cli(["completion", "bash"])).stdout;
    const complete = async (line: string) => {
      const words = line.split(" ");
      const program = [
        script,
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}`,
        "_gpuplane_complete",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion, not a template
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join("\n");
      const { stdout } = await run("bash", ["-c", program], {
        env: { ...process.env, PATH: `${home}:${process.env.PATH}` },
      });
      return stdout.trim().split("\n").sort();
    };
    expect(await complete("gpuplane inst")).toEqual(["instances"]);
    expect(await complete("gpuplane instances ")).toEqual(["delete", "launch", "list", "show", "start", "stop"]);
    expect(await complete("gpuplane instances launch --w")).toEqual(["--wait"]);
    expect((await cli(["completion", "zsh"])).stdout).toContain("compdef _gpuplane gpuplane");
  });

  it("prints help for every command and group, and exits 2 for an unknown one", async () => {
    const overview = await cli(["--help"]);
    expect(overview.code).toBe(0);
    for (const line of ["gpuplane login", "gpuplane instances launch <plan>", "gpuplane jobs logs <id>"]) {
      expect(overview.stdout).toContain(line);
    }
    const group = await cli(["nodes", "--help"]);
    expect(group.stdout).toMatch(/gpuplane nodes cordon <id>[\s\S]*gpuplane nodes uncordon <id>/);
    const one = await cli(["credits", "grant", "--help"]);
    expect(one.stdout).toContain("usage: gpuplane credits grant <tenant-id> <usd> [options]");
    const unknown = await cli(["instancse"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "instancse"');
    const notLoggedIn = await cli(["instances", "list"]);
    expect(notLoggedIn.code).toBe(2);
    expect(notLoggedIn.stderr).toMatch(/not logged in as profile "default".*gpuplane login/);
  });

  it("installs alone: its code imports nothing of the server, only the SDK and its declared dependencies", () => {
    const declared = (pkg: string) =>
      Object.keys(JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).dependencies ?? {});
    // The SDK is inlined into the CLI's bundle (packages/cli/dist), so it is a build-time dependency of the CLI.
    const allowed = new Set(["@gpuplane/sdk", ...declared("packages/cli"), ...declared("packages/sdk")]);
    const sdkEntry = resolve("packages/sdk/src/index.ts");
    const graph = importGraph("packages/cli/src/main.ts", (spec) => (spec === "@gpuplane/sdk" ? sdkEntry : undefined));
    for (const file of graph.files) {
      const where = relative(resolve("."), file);
      expect(where.startsWith("packages/cli/src/") || where.startsWith("packages/sdk/src/"), where).toBe(true);
    }
    for (const spec of graph.bare) {
      if (!spec.startsWith("node:")) expect(allowed.has(packageName(spec)), spec).toBe(true);
    }
    expect(graph.files.size).toBeGreaterThan(15);
  });
});
