import type { ReactNode } from 'react';
import type { Loaded } from '../api/use-api.js';
import { Problem } from './problem.js';

/** Shows an answer once it is there: "Loading…" while it comes, the API's problem if it was refused. */
export function Loadable<T>({ result, children, what }: { result: Loaded<T>; what: string; children: (data: T) => ReactNode }) {
  if (result.state === 'loading') {
    return (
      <p className="muted" aria-busy="true">
        Loading {what}…
      </p>
    );
  }
  if (result.state === 'error') return <Problem problem={result.problem} title={`The ${what} could not be loaded.`} />;
  return <>{children(result.data)}</>;
}
