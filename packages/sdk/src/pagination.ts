/**
 * Cursor pagination as an async iterator: follows `meta.cursor` while `meta.has_more`, one page per request, so a
 * caller can `for await` over every item of a list of any length (or stop early and fetch no more pages).
 */
export interface PageMeta {
  total: number;
  cursor: string | null;
  has_more: boolean;
}

type ItemOf<R> = NonNullable<R> extends { data: (infer T)[] } ? T : never;

/**
 * `for await (const i of paginate((cursor) => api.GET("/api/v1/instances", { params: { query: { cursor, limit: 200 } } })))`
 */
export async function* paginate<R extends { data?: unknown }>(
  fetchPage: (cursor: string | undefined) => Promise<R>,
): AsyncGenerator<ItemOf<R["data"]>, void, undefined> {
  let cursor: string | undefined;
  for (;;) {
    const { data } = await fetchPage(cursor);
    const page = data as { data: ItemOf<R["data"]>[]; meta?: PageMeta };
    yield* page.data;
    if (!page.meta?.has_more || !page.meta.cursor) return;
    cursor = page.meta.cursor;
  }
}

/** Every item of a list, collected: `await collect(paginate(...))`. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
