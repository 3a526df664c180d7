import type { Action } from '../api/use-action.js';
import { Problem } from './problem.js';

/** The end of a form that changes something: why it was refused, what it did (announced), and its submit button. */
export function FormEnd({ action, done, submit }: { action: Action; done: string; submit: string }) {
  return (
    <>
      {action.problem ? <Problem problem={action.problem} /> : null}
      <p aria-live="polite" className="ok">
        {done}
      </p>
      <button type="submit" className="primary" disabled={action.busy}>
        {submit}
      </button>
    </>
  );
}
