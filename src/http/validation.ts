import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { ApiError } from "../lib/errors.js";

const article: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "a boolean",
  object: "an object",
  array: "an array",
};

/** Turns the first Zod issue into a message that names the field: "cluster_type is required". */
export function describeIssue(issue: z.core.$ZodIssue, where?: string): string {
  const path = issue.path.map(String).join(".");
  const field = path || where || "request";
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) return `${field} is required`;
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(", ");
    if (where === "query") return `unknown query parameter${issue.keys.length > 1 ? "s" : ""}: ${keys}`;
    return `unknown field${issue.keys.length > 1 ? "s" : ""}: ${keys}`;
  }
  if (issue.code === "invalid_type") return `${field} must be ${article[issue.expected] ?? issue.expected}`;
  if (issue.code === "too_big" || issue.code === "too_small") {
    const bound = issue.code === "too_big" ? issue.maximum : issue.minimum;
    const unit = issue.origin === "string" ? " characters" : issue.origin === "array" ? " items" : "";
    if (issue.code === "too_small" && issue.origin === "string" && Number(bound) === 1)
      return `${field} must not be empty`;
    if (issue.code === "too_small" && issue.origin === "array" && Number(bound) === 1)
      return `${field} must not be empty`;
    const inclusive = issue.inclusive !== false;
    const word =
      issue.code === "too_big" ? (inclusive ? "at most" : "less than") : inclusive ? "at least" : "more than";
    return `${field} must be ${word} ${String(bound)}${unit}`;
  }
  const message = issue.message.replace(/^Invalid input: /, "");
  return `${field}: ${message}`;
}

export function validationError(error: z.ZodError, where?: string): ApiError {
  const issue = error.issues[0];
  return new ApiError("BAD_REQUEST", describeIssue(issue, where), {
    issues: error.issues
      .slice(0, 10)
      .map((i) => ({ path: i.path.map(String).join("."), message: describeIssue(i, where) })),
  });
}

/**
 * The client closed the connection before sending the body it declared. Nobody is left to answer, and it is not the
 * server's failure: counted under its own status label ("aborted") in /metrics, not as a 500, and not logged as an
 * error (anyone could otherwise inflate the error rate that alerts watch).
 */
export class RequestAborted extends Error {
  constructor() {
    super("the client aborted the request body");
    this.name = "RequestAborted";
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON bodies must be UTF-8 (400 otherwise). PostgreSQL text cannot hold NUL, so a `\u0000` in a JSON string or `%00` in the URL would fail deep in a query as a
 * 500. Refuse it up front, for every route, as the bad input it is.
 */
export function refuseNulCharacters(): MiddlewareHandler {
  return async (c, next) => {
    if (/%00/.test(c.req.url)) throw new ApiError("BAD_REQUEST", "the URL must not contain NUL (%00) characters");
    const method = c.req.method;
    // JSON bodies only: reading another body as text would re-encode it for the route (a CSV is fine, a gzip not).
    const json = /json/i.test(c.req.header("content-type") ?? "");
    if (json && (method === "POST" || method === "PUT" || method === "PATCH" || method === "DELETE")) {
      let bytes: ArrayBuffer;
      try {
        bytes = await c.req.arrayBuffer();
      } catch (error) {
        if (error instanceof ApiError) throw error; // the size limit
        throw new RequestAborted();
      }
      let text: string;
      try {
        text = utf8.decode(bytes);
      } catch {
        // Decoding leniently would turn the bad bytes into U+FFFD and store a value the client never sent.
        throw new ApiError("BAD_REQUEST", "the request body is not valid UTF-8");
      }
      // An escaped NUL is `\u0000` after an even number of other backslashes (`\\u0000` is a backslash and "u0000").
      if (/(^|[^\\])(\\\\)*\\u0000/i.test(text) || text.includes("\u0000")) {
        throw new ApiError("BAD_REQUEST", "strings in the request body must not contain NUL (\\u0000) characters");
      }
    }
    await next();
  };
}
