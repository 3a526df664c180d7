import type { ReactNode } from 'react';
import type { Loaded } from '../api/use-api.js';
import { Problem } from './problem.js';

/**
 * What a screen shows while its data loads ("Loading the runs…"), when it failed (with a retry), and the data
 * once it is there. `what` names the data in those sentences.
 */
export function LoadState<T>({ loaded, what, retry, children }: { loaded: Loaded<T>; what?: string; retry?: () => void; children: (data: T) => ReactNode }) {
  if (loaded.state === 'loading') {
    return (
      <p role="status" className="muted" aria-busy="true">
        {what ? `Loading ${what}…` : 'Loading…'}
      </p>
    );
  }
  if (loaded.state === 'error') return <Problem problem={loaded.problem} {...(what ? { title: `The ${what} could not be loaded.` } : {})} {...(retry ? { retry } : {})} />;
  return <>{children(loaded.data)}</>;
}
