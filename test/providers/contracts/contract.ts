import type { z } from "zod";

/**
 * A cloud's published API contract, written as our own schemas of the facts its OpenAPI document or official SDK
 * states (paths, methods, request and answer fields with their types, statuses, error codes, limits). Each contract
 * file cites the document and version it comes from; none copies its text.
 *
 * Both sides are held to it: every fake validates each request it receives (an adapter cannot send what the cloud
 * refuses) and each answer it gives (a fake cannot drift from the real API). See `FakeCloud.contract`.
 */
export interface CloudContract {
  cloud: string;
  /** The published document the facts come from: repository or site, file, version or date read. */
  source: string;
  operations: ContractOperation[];
  /** Instance (or pod, node) statuses the cloud documents. */
  statuses?: readonly string[];
  /** Error codes the cloud documents. */
  errorCodes?: readonly string[];
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface ContractOperation {
  method: HttpMethod;
  /** The path template as the document writes it, relative to the base URL: `/instances/{id}`. */
  path: string;
  /** The query string's parameters, as an object of strings (absent: the operation takes none). */
  query?: z.ZodType;
  /** The JSON request body (absent: the operation takes none). */
  body?: z.ZodType;
  /** Answers by HTTP status; `default` for any status not listed (the cloud's error body). */
  responses: Partial<Record<number | "default", z.ZodType>>;
}

export interface Exchange {
  method: string;
  /** The request's path and query, relative to the fake's base URL. */
  path: string;
  body: unknown;
  status?: number;
  answer?: unknown;
}

/** The operation a request is for: method and every path segment match (`{name}` matches any one segment). */
export function operationFor(contract: CloudContract, method: string, pathAndQuery: string): ContractOperation | null {
  const segments = pathAndQuery.split("?")[0].split("/").filter(Boolean);
  return (
    contract.operations.find((op) => {
      if (op.method !== method) return false;
      const template = op.path.split("/").filter(Boolean);
      return (
        template.length === segments.length &&
        template.every((t, i) => (t.startsWith("{") && t.endsWith("}")) || t === decodeURIComponent(segments[i]))
      );
    }) ?? null
  );
}

/** What the contract says is wrong with a request (empty when it holds). */
export function requestViolations(contract: CloudContract, exchange: Exchange): string[] {
  const where = `${exchange.method} ${exchange.path.split("?")[0]}`;
  const op = operationFor(contract, exchange.method, exchange.path);
  if (!op) return [`${where}: no such operation in ${contract.cloud}'s contract (${contract.source})`];
  const out: string[] = [];
  const query = Object.fromEntries(new URLSearchParams(exchange.path.split("?")[1] ?? ""));
  if (op.query) out.push(...issues(where, "query", op.query, query));
  else if (Object.keys(query).length) out.push(`${where}: takes no query parameters, got ${Object.keys(query)}`);
  if (op.body) out.push(...issues(where, "request body", op.body, exchange.body));
  else if (exchange.body !== undefined && exchange.body !== "") out.push(`${where}: takes no request body`);
  return out;
}

/** What the contract says is wrong with an answer (empty when it holds, or when the request had no operation). */
export function answerViolations(contract: CloudContract, exchange: Exchange): string[] {
  const op = operationFor(contract, exchange.method, exchange.path);
  if (!op || exchange.status === undefined) return [];
  const where = `${exchange.method} ${exchange.path.split("?")[0]} → ${exchange.status}`;
  const schema = op.responses[exchange.status] ?? op.responses.default;
  if (!schema) return [`${where}: the contract declares no such answer`];
  return issues(where, "answer", schema, exchange.answer);
}

function issues(where: string, what: string, schema: z.ZodType, value: unknown): string[] {
  const parsed = schema.safeParse(value);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => `${where}: ${what} ${i.path.join(".") || "(root)"}: ${i.message}`);
}
