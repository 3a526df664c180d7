import type { ApiProblem } from '../api/client.js';

/**
 * A refusal or failure as the API worded it, announced (`role="alert"`): its sentence says what to do; the
 * stable code is there to search for. `retry` offers to ask again (a failed load).
 */
export function Problem({ problem, retry }: { problem: ApiProblem; retry?: () => void }) {
  return (
    <div role="alert" className="problem">
      <p>
        {problem.detail} <span className="muted">({problem.code})</span>
      </p>
      {retry ? (
        <button type="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
