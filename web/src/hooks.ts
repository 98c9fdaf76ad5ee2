import { type FormEvent, useCallback, useEffect, useState, useSyncExternalStore } from "react";
import { api, type PageMeta } from "./api.js";

export interface Resource<T> {
  data: T | undefined;
  meta: PageMeta | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (null: nothing yet) and keeps the answer; `refreshMs` polls, for statuses that move on their own. */
export function useResource<T>(path: string | null, refreshMs?: number): Resource<T> {
  const [state, setState] = useState<{ data?: T; meta?: PageMeta; error?: unknown; loading: boolean }>({
    loading: path !== null,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick is the reload signal
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api
      .get<T>(path)
      .then((res) => live && setState({ data: res.data, meta: res.meta, loading: false }))
      .catch((error) => live && setState((s) => ({ ...s, error, loading: false })));
    return () => {
      live = false;
    };
  }, [path, tick]);

  useEffect(() => {
    if (!refreshMs || path === null) return;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, path, reload]);

  return { data: state.data, meta: state.meta, error: state.error, loading: state.loading, reload };
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
