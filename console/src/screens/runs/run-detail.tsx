import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { RunView } from '../../../../shared/admin/views.js';
import { api, segment } from '../../api/client.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { countsText, isActive, RUN_STATES } from '../../format.js';
import { LoadState } from '../../components/load-state.js';
import { Time } from '../../components/time.js';
import { canChange, useSession } from '../../session.js';
import { RunPlan } from './run-plan.js';
import { useRun } from './use-run.js';

/**
 * A run's page (`/runs/:id`): its state, counts, skipped rows by reason, warnings and who started it; while it
 * runs, its progress as it comes (announced to screen readers); a dry run's plan; and for a run the disable
 * guard held, whom it would disable, with Confirm.
 */
export function RunDetail() {
  const runId = useParams().id ?? '';
  const [version, setVersion] = useState(0);
  const result = useRun(runId, version);
  return (
    <>
      <h1>Run {runId}</h1>
      <LoadState loaded={result} what="run">
        {(run) => <RunPage key={run.runId} run={run} refresh={() => setVersion((v) => v + 1)} />}
      </LoadState>
    </>
  );
}

function RunPage({ run, refresh }: { run: RunView; refresh: () => void }) {
  const session = useSession();
  const admin = canChange(session);
  const active = isActive(run.state);
  const held = run.state === 'needs-confirmation';
  const skipped = Object.entries(run.skipReasons);
  return (
    <>
      <dl className="facts">
        <dt>Connection</dt>
        <dd>
          <Link to={`/connections/${encodeURIComponent(run.connection)}`}>{run.connection}</Link>
        </dd>
        <dt>Kind</dt>
        <dd>
          {run.kind === 'full' ? 'Full' : 'Incremental'}
          {run.dryRun ? ', dry run (changes nothing)' : ''}
          {run.fromRunId ? `, roll-back to the file of run ${run.fromRunId}` : ''}
        </dd>
        <dt>Started</dt>
        <dd>
          <Time iso={run.startedAt} /> by {actorText(run.startedBy)}
        </dd>
        <dt>Ended</dt>
        <dd>{run.endedAt ? <Time iso={run.endedAt} /> : 'Not yet'}</dd>
        {run.confirmedBy ? (
          <>
            <dt>Confirmed</dt>
            <dd>
              <Time iso={run.confirmedAt} /> by {actorText(run.confirmedBy)}
            </dd>
          </>
        ) : null}
      </dl>
      <div className="run-state" aria-live="polite" aria-atomic="true">
        <p>
          State: <strong>{RUN_STATES[run.state]}</strong>
        </p>
        {active ? (
          <p>
            {run.progress.pagesRead} page(s) read · {run.progress.shardsDone} of {run.progress.shards} shards done · so far: {countsText(run.progress.counts)}
            {run.progress.throttledUntil ? (
              <>
                {' '}
                · throttled by the directory until <Time iso={run.progress.throttledUntil} />
              </>
            ) : null}
          </p>
        ) : (
          <p>
            {run.dryRun ? 'Would do: ' : ''}
            {countsText(run.counts)}
          </p>
        )}
      </div>
      {active && admin ? <CancelRun run={run} refresh={refresh} /> : null}
      {run.error ? (
        <div className="problem" role="alert">
          <p>{run.error.message}</p>
          <p className="muted">Code: {run.error.code}</p>
        </div>
      ) : null}
      {run.warnings.length ? (
        <section aria-labelledby="warnings-title">
          <h2 id="warnings-title">Warnings</h2>
          <ul>
            {run.warnings.map((warning) => (
              <li key={warning}>{warning}</li>
            ))}
          </ul>
        </section>
      ) : null}
      {held && run.heldDisables ? <HeldDisables run={run} heldDisables={run.heldDisables} admin={admin} refresh={refresh} /> : null}
      <section aria-labelledby="counts-title">
        <h2 id="counts-title">Counts</h2>
        <CountsTable caption="What the run did, by action" head={['Action', 'Users']} counts={Object.entries(active ? run.progress.counts : run.counts)} />
      </section>
      {skipped.length ? (
        <section aria-labelledby="skipped-title">
          <h2 id="skipped-title">Skipped rows by reason</h2>
          <CountsTable caption="Skipped records by reason" head={['Reason', 'Records']} counts={skipped} />
          <p>
            <Link to={`/audit?run=${encodeURIComponent(run.runId)}&action=skipped`}>Each skipped record in the audit trail</Link>
          </p>
        </section>
      ) : null}
      {!active && (run.dryRun || held) ? <RunPlan runId={run.runId} held={held} /> : null}
      <p>
        <Link to={`/audit?run=${encodeURIComponent(run.runId)}`}>Everything this run did, in the audit trail</Link>
      </p>
    </>
  );
}

function CountsTable({ caption, head, counts }: { caption: string; head: [string, string]; counts: [string, number][] }) {
  return (
    <div className="table-scroll">
      <table className="compact">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{head[0]}</th>
            <th scope="col">{head[1]}</th>
          </tr>
        </thead>
        <tbody>
          {counts.map(([name, count]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function HeldDisables({ run, heldDisables, admin, refresh }: { run: RunView; heldDisables: NonNullable<RunView['heldDisables']>; admin: boolean; refresh: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const more = heldDisables.count - heldDisables.usernames.length;
  return (
    <section aria-labelledby="held-title" className="notice">
      <h2 id="held-title">Held for confirmation</h2>
      <p>
        This run would disable <strong>{heldDisables.count}</strong> of {heldDisables.enabledBefore} enabled user(s), more than the connection’s disable guard allows without
        a confirmation ({heldDisables.limit}). It disabled no one; everything else it found has landed.
      </p>
      <ul aria-label="Users it would disable">
        {heldDisables.usernames.map((username) => (
          <li key={username}>
            <Link to={`/users/${encodeURIComponent(username)}`}>{username}</Link>
          </li>
        ))}
      </ul>
      {more > 0 ? <p>and {more} more (the plan below lists every one).</p> : null}
      <p className="muted">Left unconfirmed, it disables no one: the next sync of {run.connection} looks again at who is missing, and this run is then superseded.</p>
      {admin ? (
        <button type="button" className="primary" onClick={() => setConfirming(true)}>
          Confirm
        </button>
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title={`Disable ${heldDisables.count} user(s)?`}
          confirmLabel={`Disable ${heldDisables.count} user(s)`}
          danger
          onCancel={() => setConfirming(false)}
          onConfirm={async () => {
            await api('POST', `runs/${segment(run.runId)}/confirm`);
            setConfirming(false);
            refresh();
          }}
        >
          <p>
            They are <strong>disabled, never deleted</strong>, and re-enabled if they come back in {run.connection}. Users an admin changed since the run are taken as they are now.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

/** Ends an active run at once (POST /api/runs/{id}/cancel): refused once it has begun to finish. */
function CancelRun({ run, refresh }: { run: RunView; refresh: () => void }) {
  const [asking, setAsking] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setAsking(true)}>
        Cancel run
      </button>
      {asking ? (
        <ConfirmDialog
          title="Cancel this run?"
          confirmLabel="Cancel the run"
          dismissLabel="Keep it running"
          danger
          onCancel={() => setAsking(false)}
          onConfirm={async () => {
            await api('POST', `runs/${segment(run.runId)}/cancel`);
            setAsking(false);
            refresh();
          }}
        >
          <p>It stops at once and disables no one. Users it already created or updated stay as they are.</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

/** Who acted, as the audit trail names them: `user:ann@contoso.com` → ann@contoso.com. */
export function actorText(actor: string): string {
  if (actor === 'timer') return 'the scheduler';
  if (actor === 'api') return 'an admin through the API';
  const [kind, ...rest] = actor.split(':');
  const who = rest.join(':');
  if (kind === 'user') return who;
  if (kind === 'cli') return `${who} (usersync CLI)`;
  if (kind === 'app') return `an app (${who})`;
  return actor;
}
