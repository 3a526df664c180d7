import { formatTime } from '../format.js';

/** A moment in local time, its exact ISO value kept for machines (and shown on hover). */
export function Time({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={iso}>
      {formatTime(iso)}
    </time>
  );
}
