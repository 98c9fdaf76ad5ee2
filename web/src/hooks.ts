import { type FormEvent, useCallback, useEffect, useState, useSyncExternalStore } from "react";
import { type ApiError, api, isTransient, type PageMeta, setChangeHandler } from "./api.js";

export interface Resource<T> {
  data: T | undefined;
  meta: PageMeta | undefined;
  /** The last read's failure. A transient one (429, 5xx, unreachable) is retried by itself and keeps `data`. */
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * One shared entry per path: every component that shows the same resource (the sidebar's balance and the Billing
 * page's, say) reads one answer and one request is in flight at a time, so a page costs the server one read per
 * resource, not one per component. A transient failure keeps the last good answer and is retried after the
 * server's `Retry-After` (at least 5 s); a change made through `api` refreshes the billing reads it may have moved.
 */
interface Entry {
  data?: unknown;
  meta?: PageMeta;
  error?: unknown;
  loading: boolean;
  fetchedAt: number;
  inflight?: Promise<void>;
  retry?: ReturnType<typeof setTimeout>;
  listeners: Set<() => void>;
}

const entries = new Map<string, Entry>();

function entryFor(path: string): Entry {
  let entry = entries.get(path);
  if (!entry) {
    entry = { loading: false, fetchedAt: 0, listeners: new Set() };
    entries.set(path, entry);
  }
  return entry;
}

function publish(entry: Entry, change: Partial<Entry>) {
  Object.assign(entry, change);
  for (const listener of entry.listeners) listener();
}

/** Reads `path` unless an answer younger than `maxAgeMs` is kept or a read is already in flight. */
function refresh(path: string, maxAgeMs = 0): void {
  const entry = entryFor(path);
  if (entry.inflight || (maxAgeMs > 0 && Date.now() - entry.fetchedAt < maxAgeMs)) return;
  clearTimeout(entry.retry);
  entry.retry = undefined;
  publish(entry, { loading: true });
  entry.inflight = api
    .get<unknown>(path)
    .then(
      (res) => publish(entry, { data: res.data, meta: res.meta, error: undefined, fetchedAt: Date.now() }),
      (error) => {
        publish(entry, { error, fetchedAt: Date.now() });
        if (isTransient(error) && entry.listeners.size > 0) {
          const wait = Math.max(5, (error as ApiError).retryAfter ?? 0) * 1000;
          entry.retry = setTimeout(() => refresh(path), wait);
        }
      },
    )
    .finally(() => {
      entry.inflight = undefined;
      publish(entry, { loading: false });
    });
}

// Balance, usage and transactions move with launches, stops, top-ups and grants: read them again after a change.
setChangeHandler(() => {
  for (const [path, entry] of entries) {
    if (path.startsWith("/billing/") && entry.listeners.size > 0) {
      entry.fetchedAt = 0;
      refresh(path);
    }
  }
});

/** GETs `path` (null: nothing yet) and keeps the answer; `refreshMs` polls, for statuses that move on their own. */
export function useResource<T>(path: string | null, refreshMs?: number): Resource<T> {
  const [, rerender] = useState(0);

  useEffect(() => {
    if (path === null) return;
    const entry = entryFor(path);
    const listener = () => rerender((n) => n + 1);
    entry.listeners.add(listener);
    // A fresh answer another component just read is reused; an older one is read again on arrival.
    refresh(path, 2000);
    rerender((n) => n + 1);
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) {
        clearTimeout(entry.retry);
        entry.retry = undefined;
      }
    };
  }, [path]);

  useEffect(() => {
    if (!refreshMs || path === null) return;
    // Several components polling one path share its reads: each asks only when the kept answer is due.
    const timer = setInterval(() => refresh(path, refreshMs - 500), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, path]);

  const reload = useCallback(() => {
    if (path !== null) refresh(path);
  }, [path]);

  const entry = path === null ? undefined : entries.get(path);
  return {
    data: entry?.data as T | undefined,
    meta: entry?.meta,
    error: entry?.error,
    loading: entry ? entry.loading || entry.fetchedAt === 0 : false,
    reload,
  };
}

export interface PagedList<T> extends Resource<T[]> {
  page: number;
  next?: () => void;
  previous?: () => void;
}

/** A cursor-paginated list (meta {total, cursor, has_more}) browsed a page at a time. */
export function usePagedList<T>(path: string, refreshMs?: number): PagedList<T> {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const joiner = path.includes("?") ? "&" : "?";
  const list = useResource<T[]>(cursor ? `${path}${joiner}cursor=${encodeURIComponent(cursor)}` : path, refreshMs);
  const nextCursor = list.meta?.has_more ? list.meta.cursor : null;
  return {
    ...list,
    page: cursors.length + 1,
    next: nextCursor ? () => setCursors((c) => [...c, nextCursor]) : undefined,
    previous: cursors.length > 0 ? () => setCursors((c) => c.slice(0, -1)) : undefined,
  };
}

// A router of ten lines: the server answers every console path with index.html, history does the rest.
const listeners = new Set<() => void>();
const subscribe = (listener: () => void) => {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
};

export function navigate(path: string, replace = false) {
  if (path === window.location.pathname) return;
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  for (const listener of listeners) listener();
}

export const usePath = () => useSyncExternalStore(subscribe, () => window.location.pathname);

/** Runs a form's submit as an async action: busy while it runs, the server's message if it fails. */
export function useSubmit(action: (form: FormData, element: HTMLFormElement) => Promise<void>) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    setBusy(true);
    setError(undefined);
    try {
      await action(new FormData(element), element);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { onSubmit, error, busy };
}
