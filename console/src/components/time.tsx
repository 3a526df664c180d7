/** A point in time in the admin's own locale and time zone, machine-readable in `dateTime`. */
export function Time({ iso }: { iso: string | undefined }) {
  return iso ? <time dateTime={iso}>{new Date(iso).toLocaleString()}</time> : <>—</>;
}
