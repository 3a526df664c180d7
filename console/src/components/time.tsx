import { formatTime } from '../format.js';

/** A moment in local time, its exact ISO value kept for machines (and shown on hover); "—" when there is none. */
export function Time({ iso }: { iso: string | undefined }) {
  if (!iso) return <>—</>;
  return (
    <time dateTime={iso} title={iso}>
      {formatTime(iso)}
    </time>
  );
}
