import { useCallback, useEffect, useState } from 'react';
import { api, ApiProblem } from './client.js';

/** What a screen has of an API answer: still loading, the answer, or the API's refusal. */
export type Loaded<T> = { state: 'loading' } | { state: 'ready'; data: T } | { state: 'error'; problem: ApiProblem };

/** Any failure as the API words it: an ApiProblem stays one, anything else becomes `unexpected`. */
export function asProblem(error: unknown): ApiProblem {
  return error instanceof ApiProblem ? error : new ApiProblem(0, 'unexpected', String(error));
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * GET `/api/{path}` when the screen shows (and again when the path or query changes, or on `reload`). An answer
 * that arrives after the screen moved on is dropped. `path` undefined: nothing to ask yet.
 */
export function useApiGet<T>(path: string | undefined, query: Query = {}): { result: Loaded<T>; reload: () => Promise<void> } {
  const key = JSON.stringify([path, query]);
  // The answer with the request it answers: one for another path (the screen moved on) is not shown as this one's.
  const [answer, setAnswer] = useState<{ key: string; result: Loaded<T> }>();
  const [version, setVersion] = useState(0);
  useEffect(() => {
    // JSON keeps an undefined path as null.
    const [asked, askedQuery] = JSON.parse(key) as [string | null, Query];
    if (asked === null) return;
    let live = true;
    api<T>('GET', asked, { query: askedQuery }).then(
      (data) => live && setAnswer({ key, result: { state: 'ready', data } }),
      (error: unknown) => live && setAnswer({ key, result: { state: 'error', problem: asProblem(error) } }),
    );
    return () => {
      live = false;
    };
  }, [key, version]);
  // A reload keeps what is shown until the new answer arrives (no flash of "Loading…").
  const reload = useCallback(async () => setVersion((v) => v + 1), []);
  return { result: answer?.key === key ? answer.result : { state: 'loading' }, reload };
}
