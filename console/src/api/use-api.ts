import { useCallback, useEffect, useState } from 'react';
import { api, ApiProblem, type RequestOptions } from './client.js';

/**
 * Reading the API from a screen: what a GET answered, or is still waiting for, or why it failed. The
 * request is keyed by its path and query, so a screen that changes its filters asks again and never shows
 * an answer to a question it no longer asks.
 */

export type Query = NonNullable<RequestOptions['query']>;

export type Loaded<T> = { state: 'loading' } | { state: 'ready'; data: T } | { state: 'error'; problem: ApiProblem };

/** Anything a request threw, as the API's problem (a network failure is one already; a bug becomes one). */
export function asProblem(error: unknown): ApiProblem {
  return error instanceof ApiProblem ? error : new ApiProblem(0, 'unexpected', error instanceof Error ? error.message : String(error));
}

export interface ApiGet<T> {
  loaded: Loaded<T>;
  /** Asks again (after a change elsewhere), showing what it has until the new answer arrives (no "Loading…" flash). */
  reload(): void;
  /** Shows what a change answered (the changed object) without asking again. */
  replace(data: T): void;
}

/** `GET /api/{path}` with `query`; `path` undefined asks nothing (yet). */
export function useApiGet<T>(path: string | undefined, query: Query = {}): ApiGet<T> {
  const [version, setVersion] = useState(0);
  const key = JSON.stringify([path, query]);
  // The answer with the request it answers: one for another path (the screen moved on) is not shown as this one's.
  const [answer, setAnswer] = useState<{ key: string; loaded: Loaded<T> }>();
  useEffect(() => {
    // JSON keeps an undefined path as null.
    const [askPath, askQuery] = JSON.parse(key) as [string | null, Query];
    if (askPath === null) return;
    let live = true;
    api<T>('GET', askPath, { query: askQuery }).then(
      (data) => live && setAnswer({ key, loaded: { state: 'ready', data } }),
      (error: unknown) => live && setAnswer({ key, loaded: { state: 'error', problem: asProblem(error) } }),
    );
    return () => {
      live = false;
    };
  }, [key, version]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  const replace = useCallback((data: T) => setAnswer({ key, loaded: { state: 'ready', data } }), [key]);
  return { loaded: answer?.key === key ? answer.loaded : { state: 'loading' }, reload, replace };
}

export interface PagedList<T> {
  loaded: Loaded<T[]>;
  /** Another page may follow. */
  hasMore: boolean;
  /** Asking for the next page; `moreProblem` if that failed (the pages already shown stay). */
  loadingMore: boolean;
  moreProblem?: ApiProblem;
  /** Appends the next page (following the continuation token). */
  more(): void;
  reload(): void;
}

interface Pages<T> {
  key: string;
  loaded: Loaded<T[]>;
  token?: string;
  loadingMore: boolean;
  moreProblem?: ApiProblem;
}

/**
 * A list the API answers a page at a time (`{ [field]: T[], continuationToken? }`): the first page, and
 * each next one appended on request, so sorting and reading stay on one table.
 */
export function usePagedApi<T>(path: string, field: string, query: Query): PagedList<T> {
  const [version, setVersion] = useState(0);
  const key = JSON.stringify([path, field, query, version]);
  const [pages, setPages] = useState<Pages<T>>();
  useEffect(() => {
    let live = true;
    fetchPage<T>(key, undefined).then(
      ({ items, token }) => live && setPages({ key, loaded: { state: 'ready', data: items }, token, loadingMore: false }),
      (error: unknown) => live && setPages({ key, loaded: { state: 'error', problem: asProblem(error) }, loadingMore: false }),
    );
    return () => {
      live = false;
    };
  }, [key]);
  const current = pages?.key === key ? pages : undefined;
  const more = useCallback(() => {
    const token = current?.token;
    if (!current || !token || current.loadingMore) return;
    setPages({ ...current, loadingMore: true, moreProblem: undefined });
    fetchPage<T>(key, token).then(
      ({ items, token: next }) =>
        setPages((now) => (now?.key === key && now.loaded.state === 'ready' ? { key, loaded: { state: 'ready', data: [...now.loaded.data, ...items] }, token: next, loadingMore: false } : now)),
      (error: unknown) => setPages((now) => (now?.key === key ? { ...now, loadingMore: false, moreProblem: asProblem(error) } : now)),
    );
  }, [current, key]);
  const reload = useCallback(() => setVersion((v) => v + 1), []);
  return {
    loaded: current?.loaded ?? { state: 'loading' },
    hasMore: current?.token !== undefined,
    loadingMore: current?.loadingMore ?? false,
    ...(current?.moreProblem ? { moreProblem: current.moreProblem } : {}),
    more,
    reload,
  };
}

async function fetchPage<T>(key: string, continuationToken: string | undefined): Promise<{ items: T[]; token?: string }> {
  const [path, field, query] = JSON.parse(key) as [string, string, Query];
  const page = await api<Record<string, unknown>>('GET', path, { query: { ...query, continuationToken } });
  const items = page[field];
  return { items: Array.isArray(items) ? (items as T[]) : [], ...(typeof page.continuationToken === 'string' ? { token: page.continuationToken } : {}) };
}
