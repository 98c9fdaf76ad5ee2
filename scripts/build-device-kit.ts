/**
 * The device kit: a folder to carry to a GPU host that has only `node` (20 or newer), no checkout, no npm install, from
 * which scripts/device-check.sh runs every step (agent alone, server + agent joined, a CUDA job, containers):
 *   device-check.sh, build-test-image.sh   the check, and the container image it builds when podman has none;
 *   gpuplane-agent.mjs, VERSION            the single-file agent (what the server serves at /agent/gpuplane-agent.mjs)
 *                                          and its version and sha256;
 *   agent/install.sh, agent/package.json   what the kit's server serves at /agent/install.sh and reads its version from;
 *   server/gpuplane-server.mjs             the gpuplane CLI and server bundled by esbuild (entry scripts/device-kit-server.ts),
 *   server/pglite-initdb.mjs               the initdb child script src/db/client.ts runs on first start,
 *   server/chunk-*.mjs                     the code they share (PGlite among it, once),
 *   server/pglite.wasm, pglite.data, initdb.wasm   PGlite's files, found beside the code that loads them,
 *   server/drizzle/                        the migrations (SQL and meta/_journal.json; the snapshots are not needed).
 * The web console and the API reference's browser bundle (/docs) are not in it. Beside the folder it writes
 * <dir>.tar.gz, the same files compressed, which is what to carry.
 * Usage: npm run build:device-kit [-- <dir>] (default dist/device-kit).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import * as esbuild from "esbuild";
import { buildAgent } from "../packages/agent/src/build.js";

const root = resolve(import.meta.dirname, "..");
const out = resolve(process.argv[2] ?? join(root, "dist/device-kit"));
rmSync(out, { recursive: true, force: true });
rmSync(`${out}.tar.gz`, { force: true });
const server = join(out, "server");
mkdirSync(join(server, "drizzle/meta"), { recursive: true });
mkdirSync(join(out, "agent"));

const agent = await buildAgent();
writeFileSync(join(out, "gpuplane-agent.mjs"), agent.code, { mode: 0o755 });
writeFileSync(join(out, "VERSION"), `${agent.version} sha256 ${agent.sha256}\n`);
for (const file of ["install.sh", "package.json"])
  copyFileSync(join(root, "packages/agent", file), join(out, "agent", file));
for (const script of ["device-check.sh", "build-test-image.sh"]) {
  copyFileSync(join(root, "scripts", script), join(out, script));
  chmodSync(join(out, script), 0o755);
}

await esbuild.build({
  entryPoints: {
    "gpuplane-server": join(root, "scripts/device-kit-server.ts"),
    "pglite-initdb": join(root, "src/db/pglite-initdb.mjs"),
  },
  outdir: server,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  keepNames: true,
  legalComments: "none",
  define: { __GPUPLANE_SERVER_BUNDLE__: "true" },
  // esbuild builds the agent only when no GPUPLANE_AGENT_FILE is given (the kit gives one); pg-native is optional;
  // ssh2 (the web terminal) loads its native crypto and cpu-features inside try/catch and falls back to pure JS.
  external: ["esbuild", "pg-native", "cpu-features", "*.node"],
  // CommonJS dependencies (pg, pino, ioredis, ssh2) call require() for Node's built-in modules; some read __dirname.
  banner: {
    js:
      'import { createRequire as __kitRequire } from "node:module"; const require = __kitRequire(import.meta.url);' +
      ' import { fileURLToPath as __kitPath } from "node:url"; import { dirname as __kitDir } from "node:path";' +
      " const __filename = __kitPath(import.meta.url); const __dirname = __kitDir(__filename);",
  },
  logLevel: "warning",
});
const pglite = join(root, "node_modules/@electric-sql/pglite/dist");
for (const file of ["pglite.wasm", "pglite.data", "initdb.wasm"]) copyFileSync(join(pglite, file), join(server, file));
for (const file of readdirSync(join(root, "drizzle")).filter((f) => f.endsWith(".sql"))) {
  copyFileSync(join(root, "drizzle", file), join(server, "drizzle", file));
}
copyFileSync(join(root, "drizzle/meta/_journal.json"), join(server, "drizzle/meta/_journal.json"));

const tar = spawnSync("tar", ["-czf", `${out}.tar.gz`, "-C", dirname(out), basename(out)], { encoding: "utf8" });
if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
const size = (path: string): number =>
  statSync(path).isDirectory() ? readdirSync(path).reduce((n, f) => n + size(join(path, f)), 0) : statSync(path).size;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
console.log(
  `device kit: ${out} (${mb(size(out))}; ${out}.tar.gz ${mb(size(`${out}.tar.gz`))}), agent ${agent.version} ` +
    `(${agent.code.length} bytes), server ${mb(size(server))}`,
);
