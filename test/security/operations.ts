import type { z } from "zod";
import { ACCESS_FIELD, type Access } from "../../src/http/access.js";

/** One operation of /openapi.json, with the route declaration it came from (its Zod response schemas). */
export interface Operation {
  method: string;
  path: string;
  access: Access | undefined;
  security: unknown;
  parameters: { name: string; in: string; required?: boolean; schema: JsonSchema }[];
  body: JsonSchema | undefined;
  responses: Record<string, z.ZodType | undefined>;
}

export type JsonSchema = Record<string, any>;

/** Every operation in the document, joined to its route definition by method and path. */
export function operations(doc: any, definitions: readonly any[]): Operation[] {
  const routes = new Map<string, any>();
  for (const d of definitions) {
    if (d.type === "route" && !d.route.hide) routes.set(`${d.route.method} ${d.route.path}`, d.route);
  }
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      const route = routes.get(`${method} ${path}`);
      const responses: Record<string, z.ZodType | undefined> = {};
      for (const [status, r] of Object.entries<any>(route?.responses ?? {})) {
        responses[status] = r?.content?.["application/json"]?.schema;
      }
      out.push({
        method: method.toUpperCase(),
        path,
        access: op[ACCESS_FIELD],
        security: op.security,
        parameters: (op.parameters ?? []).map((p: any) => resolve(doc, p)),
        body: op.requestBody?.content?.["application/json"]?.schema,
        responses,
      });
    }
  }
  return out;
}

export function resolve(doc: any, schema: JsonSchema): JsonSchema {
  if (!schema?.$ref) return schema;
  const name = String(schema.$ref).split("/").pop()!;
  return resolve(doc, doc.components.schemas[name] ?? doc.components.parameters?.[name]);
}

/** The path with every parameter filled by `fill(name)`. */
export const fillPath = (path: string, fill: (name: string) => string) =>
  `/api/v1${path.replace(/^\/api\/v1/, "").replace(/\{([^}]+)\}/g, (_, name) => encodeURIComponent(fill(name)))}`;

/** Integer leaves of a schema (request bodies and parameters) that lack a maximum a column can hold. */
export function unboundedIntegers(doc: any, schema: JsonSchema | undefined, at: string, out: string[] = [], depth = 0) {
  if (!schema || depth > 8) return out;
  const s = resolve(doc, schema);
  for (const sub of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])])
    unboundedIntegers(doc, sub, at, out, depth + 1);
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes("integer") && (s.maximum === undefined || s.maximum > 2_147_483_647) && s.format !== "int64") {
    out.push(at);
  }
  if (s.properties) {
    for (const [k, v] of Object.entries<any>(s.properties)) unboundedIntegers(doc, v, `${at}.${k}`, out, depth + 1);
  }
  if (s.items) unboundedIntegers(doc, s.items, `${at}[]`, out, depth + 1);
  if (s.additionalProperties && typeof s.additionalProperties === "object") {
    unboundedIntegers(doc, s.additionalProperties, `${at}{}`, out, depth + 1);
  }
  return out;
}
