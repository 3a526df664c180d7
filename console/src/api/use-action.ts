import { useCallback, useState } from 'react';
import type { ApiProblem } from './client.js';
import { asProblem } from './use-api.js';

export interface Action {
  busy: boolean;
  /** Why the last attempt was refused, until the next one. */
  problem?: ApiProblem;
  /** Runs a change; false when it was refused (the problem says why). */
  run(change: () => Promise<void>): Promise<boolean>;
  /** The API's message for one input field of a refused request (a 400's field problems). */
  fieldError(field: string): string | undefined;
}

/** A change an admin asks for (a form, a button): one at a time, its refusal kept to show. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem>();
  const run = useCallback(async (change: () => Promise<void>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await change();
      return true;
    } catch (error) {
      setProblem(asProblem(error));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const fieldError = (field: string) => problem?.fieldProblems.find((p) => p.field === field)?.message;
  return { busy, problem, run, fieldError };
}
