import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The layering of src/, drawn from its own imports (type-only imports included: they tie files together as much as a
 * reader sees it). Issue 22 found a 9-file circle through instances, volumes, waitlist, catalog and the upstream
 * provider, which wrote instance rows and re-entered the state machine from below; these checks keep it from coming
 * back: no circle larger than two files, and the cloud adapters under src/providers/ import nothing of the domain.
 */
const root = resolve(import.meta.dirname, "../../src");

function importGraph(dir: string): Map<string, string[]> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(path);
    }
  };
  walk(dir);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
    const targets = new Set<string>();
    const add = (specifier: string) => {
      if (!specifier.startsWith(".")) return; // a package
      const base = resolve(dirname(file), specifier).replace(/\.js$/, "");
      const target = [`${base}.ts`, join(base, "index.ts")].find((p) => existsSync(p));
      if (target) targets.add(relative(dir, target));
    };
    for (const node of source.statements) {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
        if (ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text);
      } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
        add(node.name.text); // `declare module "../context.js"` ties the file to what it augments
      }
    }
    graph.set(relative(dir, file), [...targets]);
  }
  return graph;
}

/** Strongly connected components (Tarjan): the sets of files that import each other, directly or round a circle. */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe("the import graph of src/", () => {
  const graph = importGraph(root);

  it("reads the real tree", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("domain/instances/create.ts")).toContain("domain/instances/record.ts");
  });

  it("has no circle larger than two files", () => {
    const large = circles(graph).filter((c) => c.length > 2);
    expect(large.map((c) => c.join(" → "))).toEqual([]);
  });

  it("keeps the cloud adapters (src/providers/) free of the domain: they import only each other and src/lib/", () => {
    const outward = [...graph].flatMap(([file, targets]) =>
      file.startsWith("providers/")
        ? targets.filter((t) => !t.startsWith("providers/") && !t.startsWith("lib/")).map((t) => `${file} → ${t}`)
        : [],
    );
    expect(outward).toEqual([]);
  });

  it("finds circles when they are there (the check itself)", () => {
    const knot = new Map([
      ["domain/instances/record.ts", ["domain/waitlist/orders.ts"]],
      ["domain/waitlist/orders.ts", ["providers/upstream/provider.ts"]],
      ["providers/upstream/provider.ts", ["domain/instances/record.ts"]],
      ["domain/instances/states.ts", ["domain/instances/row.ts"]],
      ["domain/instances/row.ts", ["domain/instances/states.ts"]],
    ]);
    expect(circles(knot).map((c) => c.length)).toEqual([3, 2]);
  });
});
