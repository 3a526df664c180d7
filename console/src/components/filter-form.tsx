import type { FormEvent, ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router-dom';

/**
 * Filters kept in the address's query (`/audit?action=disabled&since=2026-11-01`): a filtered list is a
 * link to share, and Back returns to the filters before.
 */
export interface UrlFilters<K extends string> {
  /** Each filter's value ('' when unset). */
  values: Record<K, string>;
  /** Changes with the query, so a form keyed by it shows what the address says after Back. */
  key: string;
  /** Puts the form's non-empty fields into the query (a new history entry). */
  submit(event: FormEvent<HTMLFormElement>): void;
}

export function useUrlFilters<K extends string>(names: readonly K[]): UrlFilters<K> {
  const [params, setParams] = useSearchParams();
  const values = Object.fromEntries(names.map((name) => [name, params.get(name) ?? ''])) as Record<K, string>;
  return {
    values,
    key: params.toString(),
    submit(event) {
      event.preventDefault();
      const next = new URLSearchParams();
      for (const [name, value] of new FormData(event.currentTarget)) {
        if (typeof value === 'string' && value.trim()) next.set(name, value.trim());
      }
      setParams(next);
    },
  };
}

/** A search form over a list: its fields, Search, and a link that clears every filter. */
export function FilterForm<K extends string>({ label, filters, children }: { label: string; filters: UrlFilters<K>; children: ReactNode }) {
  return (
    <form role="search" aria-label={label} key={filters.key} onSubmit={filters.submit} className="toolbar filters">
      {children}
      <div className="filter-actions">
        <button type="submit" className="primary">
          Search
        </button>
        <Link to={{ search: '' }}>Clear filters</Link>
      </div>
    </form>
  );
}

const PAGE_SIZES = ['25', '50', '100', '200'];

/** How many items a page holds (`limit`, 1–1000 in the API); a size the address asks for is offered too. */
export function PageSizeSelect({ id, value, fallback }: { id: string; value: string; fallback: string }) {
  const current = value || fallback;
  const sizes = PAGE_SIZES.includes(current) ? PAGE_SIZES : [current, ...PAGE_SIZES];
  return (
    <div className="field">
      <label htmlFor={id}>Per page</label>
      <select id={id} name="limit" defaultValue={current}>
        {sizes.map((size) => (
          <option key={size} value={size}>
            {size}
          </option>
        ))}
      </select>
    </div>
  );
}
