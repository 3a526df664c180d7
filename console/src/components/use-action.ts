import { useCallback, useState } from 'react';
import type { ApiProblem } from '../api/client.js';
import { asProblem } from '../api/use-api.js';

/**
 * A change an admin asks for: `busy` while it goes (buttons wait), the API's `problem` if it refused (cleared
 * by the next try). `run` never throws.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ApiProblem>();
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await action();
    } catch (error) {
      setProblem(asProblem(error));
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, problem, run };
}
