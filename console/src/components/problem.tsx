import type { ApiProblem } from '../api/client.js';

/**
 * A refusal or failure as the API worded it, announced (`role="alert"`): its sentence says what to do; the
 * stable code is there to search for or quote. `title` says what failed; `retry` offers to ask again.
 */
export function Problem({ problem, title, retry }: { problem: ApiProblem; title?: string; retry?: () => void }) {
  return (
    <div role="alert" className="problem">
      {title ? <p className="problem-title">{title}</p> : null}
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
