import { useId } from 'react';
import {
  createColumnHelper,
  createSortedRowModel,
  rowSortingFeature,
  sortFn_alphanumeric,
  sortFn_basic,
  sortFn_datetime,
  sortFn_text,
  tableFeatures,
  useTable,
  type ColumnDef,
  type RowData,
  type SortingState,
} from '@tanstack/react-table';
import type { ReactNode } from 'react';

/**
 * The console's table (@tanstack/react-table) of rows the screen holds: headers that sort the rows when clicked
 * (a button in each sortable header, so the keyboard sorts too; `aria-sort` says the order), in a scrolling
 * region a keyboard can reach, so a wide table stays readable at 390 px. Rows come in the API's order (or
 * `initialSorting`) until the admin sorts. Lists the API pages (users, audit) grow by "more" below the table.
 */
const features = tableFeatures({
  rowSortingFeature,
  sortedRowModel: createSortedRowModel(),
  sortFns: { alphanumeric: sortFn_alphanumeric, text: sortFn_text, datetime: sortFn_datetime, basic: sortFn_basic },
});
type Features = typeof features;

/** A column of rows of T; each column keeps its own value type, hence `any` here. */
export type Column<T extends RowData> = ColumnDef<Features, T, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Typed columns for rows of T (`columnsOf<User>().accessor('username', { header: 'Username' })`). */
export function columnsOf<T extends RowData>() {
  return createColumnHelper<Features, T>();
}

interface DataTableProps<T extends RowData> {
  /** Names the table (its `<caption>`) and its scrolling region. */
  caption: string;
  /** The screen's heading already says it: the caption is for screen readers only. */
  captionHidden?: boolean;
  /** Stable (module scope or memoised): a new array each render rebuilds the table. */
  columns: Column<T>[];
  rows: T[];
  rowId(row: T): string;
  initialSorting?: SortingState;
  /** Shown instead of an empty table: what to do next. Without it an empty table is shown. */
  empty?: ReactNode;
}

const SORT_NAMES = { asc: 'ascending', desc: 'descending' } as const;

export function DataTable<T extends RowData>({ caption, captionHidden = false, columns, rows, rowId, initialSorting = [], empty }: DataTableProps<T>) {
  const captionId = useId();
  const table = useTable({ features, columns, data: rows, getRowId: rowId, initialState: { sorting: initialSorting } });
  if (rows.length === 0 && empty !== undefined) return <div className="notice">{empty}</div>;
  return (
    <div className="table-scroll" role="region" aria-labelledby={captionId} tabIndex={0}>
      <table>
        <caption id={captionId} className={captionHidden ? 'visually-hidden' : undefined}>
          {caption}
        </caption>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                return (
                  <th key={header.id} scope="col" aria-sort={sorted ? SORT_NAMES[sorted] : undefined}>
                    {header.isPlaceholder ? null : header.column.getCanSort() ? (
                      <button type="button" className="sort" onClick={header.column.getToggleSortingHandler()}>
                        <table.FlexRender header={header} />
                        <span aria-hidden="true">{sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}</span>
                      </button>
                    ) : (
                      <table.FlexRender header={header} />
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id}>
              {row.getAllCells().map((cell) => (
                <td key={cell.id}>
                  <table.FlexRender cell={cell} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
