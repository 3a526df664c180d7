import type { ApiProblem } from '../api/client.js';

/** A refusal of the API as an admin reads it: its sentence (what to do), and its code to search or quote. */
export function Problem({ problem, title }: { problem: ApiProblem; title?: string }) {
  return (
    <div role="alert" className="problem">
      {title ? <p className="problem-title">{title}</p> : null}
      <p>{problem.detail}</p>
      <p className="muted">Code: {problem.code}</p>
    </div>
  );
}
