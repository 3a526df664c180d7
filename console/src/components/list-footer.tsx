import type { PagedList } from '../api/use-api.js';
import { Problem } from './problem.js';

/** Under a paged list: how much is shown (announced as it grows), and the button that loads the next page. */
export function ListFooter({ list, status, moreLabel }: { list: PagedList<unknown>; status: string; moreLabel: string }) {
  return (
    <>
      <p className="muted" aria-live="polite">
        {status}
      </p>
      {list.moreProblem ? <Problem problem={list.moreProblem} /> : null}
      {list.hasMore ? (
        <button type="button" onClick={list.more} disabled={list.loadingMore}>
          {list.loadingMore ? 'Loading…' : moreLabel}
        </button>
      ) : null}
    </>
  );
}
