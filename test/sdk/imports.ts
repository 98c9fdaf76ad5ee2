import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** Every module a TypeScript file imports, following relative imports: files reached, and bare specifiers. */
export function importGraph(entry: string, resolveBare: (spec: string) => string | undefined = () => undefined) {
  const files = new Set<string>();
  const bare = new Set<string>();
  const edges: [string, string][] = [];
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, "utf8");
    for (const [, from, dynamic] of source.matchAll(
      /(?:import|export)[^"';]*?from\s+["']([^"']+)["']|import\(["']([^"']+)["']\)/g,
    )) {
      const spec = from ?? dynamic;
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
        edges.push([file, target]);
        visit(target);
        continue;
      }
      bare.add(spec);
      const local = resolveBare(spec);
      if (local) visit(local);
    }
  };
  visit(resolve(entry));
  return { files, bare, edges };
}

/** A bare specifier's package name: `@scope/name/x` → `@scope/name`, `name/x` → `name`. */
export const packageName = (spec: string) =>
  spec
    .split("/")
    .slice(0, spec.startsWith("@") ? 2 : 1)
    .join("/");
