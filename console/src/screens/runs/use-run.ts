import { useEffect, useState } from 'react';
import type { RunView } from '../../../../shared/admin/views.js';
import { api, segment } from '../../api/client.js';
import { asProblem, type Loaded } from '../../api/use-api.js';
import { isActive } from '../../format.js';

/** Polling starts at this pace, waits half again as long each time nothing changed, and never longer than the cap. */
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/**
 * A run (GET /api/runs/{id}), asked again while it is active — soon after a change, less and less often while
 * nothing changes — so its page follows it live. `version`: bump it to ask again now (after a confirm).
 */
export function useRun(runId: string, version: number): Loaded<RunView> {
  // The answer with the run it is about: another run's (the page moved on) is not shown as this one's.
  const [answer, setAnswer] = useState<{ runId: string; result: Loaded<RunView> }>();
  useEffect(() => {
    const setResult = (result: Loaded<RunView>) => setAnswer({ runId, result });
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = FIRST_DELAY_MS;
    let last = '';
    const poll = async () => {
      try {
        const run = await api<RunView>('GET', `runs/${segment(runId)}`);
        if (!live) return;
        const seen = JSON.stringify(run);
        delay = seen === last ? Math.min(delay * 1.5, MAX_DELAY_MS) : FIRST_DELAY_MS;
        last = seen;
        setResult({ state: 'ready', data: run });
        if (isActive(run.state)) timer = setTimeout(() => void poll(), delay);
      } catch (error) {
        if (live) setResult({ state: 'error', problem: asProblem(error) });
      }
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [runId, version]);
  return answer?.runId === runId ? answer.result : { state: 'loading' };
}
