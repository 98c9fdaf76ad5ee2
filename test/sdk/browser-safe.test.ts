import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { importGraph, packageName } from "./imports.js";

/**
 * The console (a browser bundle) and the node agent are to adopt the SDK: its entry must reach no Node-only module
 * and no package but its declared ones, and its own package must not depend on the server.
 */
describe("the TypeScript SDK's entry", () => {
  it("imports no node: modules and only its declared dependencies", () => {
    const graph = importGraph("packages/sdk/src/index.ts");
    const declared = Object.keys(JSON.parse(readFileSync("packages/sdk/package.json", "utf8")).dependencies);
    expect([...graph.bare].filter((spec) => spec.startsWith("node:"))).toEqual([]);
    for (const spec of graph.bare) expect(declared, spec).toContain(packageName(spec));
    expect(declared).toEqual(["openapi-fetch"]);
    for (const file of graph.files) expect(file).toContain("/packages/sdk/src/");
  });
});
