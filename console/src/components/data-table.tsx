import {
  createColumnHelper,
  createPaginatedRowModel,
  createSortedRowModel,
  rowPaginationFeature,
  rowSortingFeature,
  sortFn_alphanumeric,
  sortFn_text,
  tableFeatures,
  useTable,
  type ColumnDef,
  type RowData,
  type SortingState,
} from '@tanstack/react-table';
import type { ReactNode } from 'react';

/**
 * A table of rows the screen already holds (@tanstack/react-table): sortable by clicking a column's header (a
 * button, so the keyboard sorts too; `aria-sort` says the order), paged when it holds more than `pageSize`
 * rows, scrolling sideways on a narrow screen. The screen owns the columns; this owns the markup.
 */
export const tableFeaturesOfConsole = tableFeatures({
  rowSortingFeature,
  sortedRowModel: createSortedRowModel(),
  sortFns: { alphanumeric: sortFn_alphanumeric, text: sortFn_text },
  rowPaginationFeature,
  paginatedRowModel: createPaginatedRowModel(),
});
type Features = typeof tableFeaturesOfConsole;

/** Column definitions for a DataTable of `T` rows. */
export function columnsOf<T extends RowData>() {
  return createColumnHelper<Features, T>();
}
export type Columns<T extends RowData> = ColumnDef<Features, T, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any -- each column keeps its own value type

export interface DataTableProps<T extends RowData> {
  /** Says what the table lists, for screen readers (and on screen). */
  caption: string;
  columns: Columns<T>;
  rows: T[];
  /** A stable id per row (React keys). */
  rowId: (row: T) => string;
  initialSorting?: SortingState;
  pageSize?: number;
  /** What to show instead of an empty table: what to do next. */
  empty: ReactNode;
}

export function DataTable<T extends RowData>({ caption, columns, rows, rowId, initialSorting = [], pageSize = 25, empty }: DataTableProps<T>) {
  const table = useTable({
    features: tableFeaturesOfConsole,
    columns,
    data: rows,
    getRowId: (row) => rowId(row),
    initialState: { sorting: initialSorting, pagination: { pageIndex: 0, pageSize } },
  });
  if (rows.length === 0) return <div className="notice">{empty}</div>;
  const pages = table.getPageCount();
  const { pageIndex } = table.state.pagination;
  return (
    <>
      <div className="table-scroll">
        <table>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  return (
                    <th key={header.id} scope="col" aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}>
                      {header.isPlaceholder ? null : header.column.getCanSort() ? (
                        <button type="button" className="sort" onClick={header.column.getToggleSortingHandler()}>
                          <table.FlexRender header={header} />
                          <span aria-hidden="true">{sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ' ↕'}</span>
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
      {pages > 1 ? (
        <nav className="pager" aria-label={`Pages of ${caption}`}>
          <button type="button" onClick={() => table.previousPage()} disabled={!table.getCanPreviousPage()}>
            Previous page
          </button>
          <span>
            Page {pageIndex + 1} of {pages}
          </span>
          <button type="button" onClick={() => table.nextPage()} disabled={!table.getCanNextPage()}>
            Next page
          </button>
        </nav>
      ) : null}
    </>
  );
}
