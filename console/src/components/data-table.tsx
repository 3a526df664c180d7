import { useId, useState } from 'react';
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

/**
 * The console's table (@tanstack/react-table): headers that sort the rows shown when clicked (a button in
 * each sortable header, `aria-sort` on it), in a scrolling region a keyboard can reach, so a wide table
 * stays readable at 390 px. Rows come in the API's order until the admin sorts.
 */
const features = tableFeatures({
  rowSortingFeature,
  sortedRowModel: createSortedRowModel(),
  sortFns: { alphanumeric: sortFn_alphanumeric, text: sortFn_text, datetime: sortFn_datetime, basic: sortFn_basic },
});
type Features = typeof features;

export type Column<T extends RowData> = ColumnDef<Features, T, unknown>;

/** Typed columns for rows of T (`columnsOf<User>().accessor('username', { header: 'Username' })`). */
export function columnsOf<T extends RowData>() {
  return createColumnHelper<Features, T>();
}

interface DataTableProps<T extends RowData> {
  /** Names the table (its `<caption>`) and its scrolling region. */
  caption: string;
  /** Stable (module scope or memoised): a new array each render rebuilds the table. */
  columns: Column<T>[];
  data: T[];
  rowId(row: T): string;
}

const SORT_NAMES = { asc: 'ascending', desc: 'descending' } as const;

export function DataTable<T extends RowData>({ caption, columns, data, rowId }: DataTableProps<T>) {
  const captionId = useId();
  const [sorting, setSorting] = useState<SortingState>([]);
  const table = useTable({ features, columns, data, getRowId: rowId, state: { sorting }, onSortingChange: setSorting });
  return (
    <div className="table-scroll" role="region" aria-labelledby={captionId} tabIndex={0}>
      <table>
        <caption id={captionId}>{caption}</caption>
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
