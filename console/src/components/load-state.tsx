import type { ReactNode } from 'react';
import type { Loaded } from '../api/use-api.js';
import { Problem } from './problem.js';

/** What a screen shows while its data loads, when it failed (with a retry), and the data once it is there. */
export function LoadState<T>({ loaded, retry, children }: { loaded: Loaded<T>; retry?: () => void; children: (data: T) => ReactNode }) {
  if (loaded.state === 'loading') {
    return (
      <p role="status" className="muted">
        Loading…
      </p>
    );
  }
  if (loaded.state === 'error') return <Problem problem={loaded.problem} retry={retry} />;
  return <>{children(loaded.data)}</>;
}
