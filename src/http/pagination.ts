import { z } from "@hono/zod-openapi";
import { badRequest } from "../lib/errors.js";
import { INT4_MAX, urlInt } from "../lib/schemas.js";

export const PageQuery = z.object({
  limit: urlInt(1, 200).default(50).openapi({ example: 50 }),
  cursor: z.string().max(512).optional().openapi({ description: "The `meta.cursor` of the previous page" }),
});
export type PageQuery = z.infer<typeof PageQuery>;

export interface Page<T> {
  items: T[];
  total: number;
  cursor: string | null;
  hasMore: boolean;
}

type Key = string | number;

/**
 * What a list's ids are: `int` for serial columns (integer ids, as seed 002's fleet uses), `int8` for bigserial
 * columns, `text` for `newId()`.
 */
export type IdKind = "int" | "int8" | "text";

const badCursor = () => badRequest("cursor is not a valid pagination cursor; pass meta.cursor from the previous page");

/** Opaque cursor: base64url of `{"id": <last id>}`. Lists are ordered by id, newest first. */
export function encodeCursor(id: Key): string {
  return Buffer.from(JSON.stringify({ id })).toString("base64url");
}

/**
 * Decodes a cursor, refusing anything `encodeCursor` could not have produced for this list: a text id on an integer
 * list, or an integer out of the column's range, would otherwise reach the database as a type error (a 500).
 */
export function decodeCursor(cursor: string | undefined, kind?: IdKind): Key | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))?.id;
  } catch {
    throw badCursor();
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || kind === "text" || (kind === "int" && Math.abs(value) > INT4_MAX)) {
      throw badCursor();
    }
    return value;
  }
  if (typeof value === "string" && value.length > 0 && value.length <= 128 && !value.includes("\u0000")) {
    if (kind === "int" || kind === "int8") throw badCursor();
    return value;
  }
  throw badCursor();
}

/**
 * Binds a cursor to the list that issued it (the route's path), so that a cursor from another list is a 400 naming the
 * mistake rather than an id of the wrong kind reaching that list's query. `okList` binds; the validation hook checks.
 */
export function bindCursor(cursor: string | null, list: string): string | null {
  if (cursor === null) return null;
  const inner = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  return Buffer.from(JSON.stringify({ ...inner, l: list })).toString("base64url");
}

export function checkCursorList(cursor: unknown, list: string): void {
  if (typeof cursor !== "string" || cursor === "") return;
  let bound: unknown;
  try {
    bound = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))?.l;
  } catch {
    throw badCursor();
  }
  // A cursor without a list (made before cursors were bound, or by hand) is still checked for its id's type.
  if (bound !== undefined && bound !== list) {
    throw badRequest("cursor belongs to another list; pass meta.cursor from this list's previous page");
  }
}

/** PostgreSQL's "invalid text representation" and "out of range": a cursor of the wrong type for its column. */
const cursorTypeErrors = new Set(["22P02", "22003"]);

/**
 * Keyset pagination: `fetch(after, take)` returns rows with id below `after` (newest first), `count()` the total.
 * Fetching one extra row tells whether there is a next page without a second query. Pass `kind` so a forged cursor
 * of the wrong type is a 400; without it a type error from the database still becomes one.
 */
export async function paginate<T extends { id: Key }>(
  query: PageQuery,
  fetch: (after: Key | undefined, take: number) => Promise<T[]>,
  count: () => Promise<number>,
  kind?: IdKind,
): Promise<Page<T>> {
  const after = decodeCursor(query.cursor, kind);
  let rows: T[];
  let total: number;
  try {
    [rows, total] = await Promise.all([fetch(after, query.limit + 1), count()]);
  } catch (error: any) {
    const code = error?.code ?? error?.cause?.code;
    if (after !== undefined && cursorTypeErrors.has(code)) throw badCursor();
    throw error;
  }
  const hasMore = rows.length > query.limit;
  const items = hasMore ? rows.slice(0, query.limit) : rows;
  return { items, total: Number(total), hasMore, cursor: hasMore ? encodeCursor(items[items.length - 1].id) : null };
}

/**
 * `paginate` in one round trip: `fetch` returns each row with the list's `total` alongside (a scalar subquery), so
 * the count costs no second query; only an empty page past the end asks `count()` separately.
 */
export async function paginateCounted<T extends { id: Key }>(
  query: PageQuery,
  fetch: (after: Key | undefined, take: number) => Promise<{ row: T; total: number }[]>,
  count: () => Promise<number>,
  kind?: IdKind,
): Promise<Page<T>> {
  let total: number | undefined;
  const page = await paginate(
    query,
    async (after, take) => {
      const rows = await fetch(after, take);
      total = rows.length ? Number(rows[0].total) : undefined;
      return rows.map((r) => r.row);
    },
    async () => 0,
    kind,
  );
  return { ...page, total: total ?? (page.items.length || query.cursor ? await count() : 0) };
}
