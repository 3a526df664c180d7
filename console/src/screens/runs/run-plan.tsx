import type { OutputOf } from '../../../../shared/admin/operations.js';
import { segment } from '../../api/client.js';
import { useApiGet } from '../../api/use-api.js';
import { columnsOf, DataTable } from '../../components/data-table.js';
import { LoadState } from '../../components/load-state.js';

type Plan = OutputOf<'runs.plan'>;
type Change = Plan['changes'][number];

/** What a dry run would do, or what a held run did and waits to do (GET /api/runs/{id}/plan), one row per user. */
export function RunPlan({ runId, held }: { runId: string; held: boolean }) {
  const { loaded: result } = useApiGet<Plan>(`runs/${segment(runId)}/plan`);
  return (
    <section aria-labelledby="plan-title">
      <h2 id="plan-title">{held ? 'Plan' : 'Plan: what this dry run would do'}</h2>
      <p className="muted">{held ? 'Its creates and updates have landed; its disables wait for the confirmation.' : 'Nothing was changed. Sync now to apply it.'}</p>
      <LoadState loaded={result} what="plan">
        {(plan) => (
          <DataTable<Change>
            captionHidden
            caption="Planned changes"
            columns={COLUMNS}
            rows={plan.changes}
            rowId={(change) => `${change.action}:${change.ref}`}
            initialSorting={[{ id: 'action', desc: false }]}
            empty={<p>No changes: the directory and the intranet already agree.</p>}
          />
        )}
      </LoadState>
    </section>
  );
}

const column = columnsOf<Change>();
const COLUMNS = column.columns([
  column.accessor('action', { header: 'Action' }),
  column.accessor((change) => change.username ?? '', { id: 'user', header: 'User' }),
  column.accessor((change) => (change.changedFields ?? []).join(', '), { id: 'fields', header: 'Changed fields' }),
  column.accessor((change) => [change.reason, change.detail].filter(Boolean).join(': '), { id: 'reason', header: 'Reason' }),
  column.accessor('ref', { header: 'Source record' }),
]);
