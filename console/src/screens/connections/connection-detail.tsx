import { useId, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { api, segment, type ApiProblem } from '../../api/client.js';
import { useApiGet } from '../../api/use-api.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { RUN_STATES } from '../../format.js';
import { LoadState } from '../../components/load-state.js';
import { Problem } from '../../components/problem.js';
import { Time } from '../../components/time.js';
import { useAction } from '../../api/use-action.js';
import { canChange, useSession } from '../../session.js';
import { CONNECTION_TYPES } from './connection-types.js';
import { scheduleText } from './connections-list.js';
import { GroupPicker } from './group-picker.js';

type Connection = OutputOf<'connections.get'>;
type TestResult = OutputOf<'connections.test'>;

/**
 * A connection's page (`/connections/:name`): what it is and how its runs went; for an admin, its actions —
 * Test connection, Sync now, Dry run, Reset, Upload CSV (a "blob" CSV profile), the groups an Entra or Okta
 * connection syncs, Edit and Delete. A Reader sees none of them.
 */
export function ConnectionDetail() {
  const name = useParams().name ?? '';
  const { loaded: result, reload } = useApiGet<Connection>(`connections/${segment(name)}`);
  return (
    <>
      <h1>{name}</h1>
      <LoadState loaded={result} what="connection">
        {(connection) => <ConnectionPage key={connection.name} connection={connection} reload={reload} />}
      </LoadState>
    </>
  );
}

function ConnectionPage({ connection, reload }: { connection: Connection; reload: () => void }) {
  const session = useSession();
  const { profile, state } = connection;
  const admin = canChange(session);
  return (
    <>
      <dl className="facts">
        <dt>Type</dt>
        <dd>{CONNECTION_TYPES.find((choice) => choice.type === connection.type)?.label}</dd>
        <dt>Schedule</dt>
        <dd>{profile.type === 'scim' ? 'Pushed over SCIM as changes happen' : scheduleText(profile.schedule)}</dd>
        <dt>State</dt>
        <dd>{profile.enabled ? 'Enabled' : 'Disabled: it does not run on its schedule'}</dd>
        <dt>Running now</dt>
        <dd>{state.activeRunId ? <Link to={`/runs/${encodeURIComponent(state.activeRunId)}`}>Run {state.activeRunId}</Link> : 'No'}</dd>
        <dt>Last run</dt>
        <dd>
          {state.lastRunId ? (
            <>
              <Link to={`/runs/${encodeURIComponent(state.lastRunId)}`}>{RUN_STATES[state.lastRunStatus as keyof typeof RUN_STATES] ?? state.lastRunStatus}</Link>, ended <Time iso={state.lastRunEndedAt} />
            </>
          ) : (
            'Never run'
          )}
        </dd>
        <dt>Next run</dt>
        <dd>{connection.nextRunAt ? <Time iso={connection.nextRunAt} /> : 'Not scheduled'}</dd>
      </dl>
      <p>
        <Link to={`/runs?connection=${encodeURIComponent(connection.name)}`}>All runs of {connection.name}</Link>
      </p>
      {connection.problems?.length ? (
        <div className="notice" role="alert">
          <p>This profile breaks rules added since it was saved; it does not sync until it is saved again, corrected:</p>
          <ul>
            {connection.problems.map(({ field, message }) => (
              <li key={field}>
                <strong>{field}</strong>: {message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {admin ? <Actions connection={connection} reload={reload} /> : null}
      {admin && profile.type === 'csv' && profile.source.kind === 'blob' ? <CsvUpload connection={connection} /> : null}
      {admin && (profile.type === 'entra' || profile.type === 'okta') ? <GroupPicker connection={connection} onSaved={reload} /> : null}
      <details>
        <summary>Profile settings</summary>
        <p className="muted">Secrets are not part of a profile: it names the app settings that hold them.</p>
        <pre className="profile-json">{JSON.stringify(profile, null, 2)}</pre>
      </details>
    </>
  );
}

function Actions({ connection, reload }: { connection: Connection; reload: () => void }) {
  const navigate = useNavigate();
  const path = `connections/${segment(connection.name)}`;
  const { busy, problem, run } = useAction();
  const [status, setStatus] = useState('');
  const [test, setTest] = useState<TestResult>();
  const [deleting, setDeleting] = useState(false);

  /** Says what is going on while the action goes; the action says how it ended. */
  const act = (what: string, action: () => Promise<void>) => {
    setStatus(what);
    return run(action).then(() => setStatus((current) => (current === what ? '' : current)));
  };
  const sync = (dryRun: boolean) =>
    act(dryRun ? 'Starting a dry run…' : 'Starting a sync…', async () => {
      const run = await api<OutputOf<'connections.sync'>>('POST', `${path}/sync`, { query: { dryRun: dryRun || undefined } });
      navigate(`/runs/${encodeURIComponent(run.runId)}`);
    });
  // A SCIM connection is pushed to: it has no run to start (the API refuses it: push-only).
  const runs = connection.profile.type !== 'scim';
  return (
    <section aria-label="Actions">
      <div className="toolbar">
        {runs ? (
          <>
            <button type="button" className="primary" disabled={busy} onClick={() => void sync(false)}>
              Sync now
            </button>
            <button type="button" disabled={busy} onClick={() => void sync(true)}>
              Dry run
            </button>
          </>
        ) : null}
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void act('Testing the connection…', async () => {
              setTest(undefined);
              setTest(await api<TestResult>('POST', `${path}/test`));
            })
          }
        >
          Test connection
        </button>
        {runs ? <button
          type="button"
          disabled={busy}
          onClick={() =>
            void act('Resetting…', async () => {
              await api('POST', `${path}/reset`);
              setStatus('Reset: the scheduler starts a run on its next tick (within a minute).');
              await reload();
            })
          }
        >
          Reset
        </button> : null}
        <Link className="button" to={`/connections/${encodeURIComponent(connection.name)}/edit`}>
          Edit
        </Link>
        <button type="button" className="danger" disabled={busy} onClick={() => setDeleting(true)}>
          Delete
        </button>
      </div>
      <p role="status">{status}</p>
      {problem ? <ActionProblem problem={problem} /> : null}
      {test ? <TestOutcome result={test} /> : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete ${connection.name}?`}
          confirmLabel="Delete connection"
          danger
          typeToConfirm={connection.name}
          onCancel={() => setDeleting(false)}
          onConfirm={async () => {
            const { disabled } = await api<OutputOf<'connections.delete'>>('DELETE', path);
            navigate('/connections', { state: { notice: `Deleted ${connection.name}: ${disabled} user(s) disabled, none deleted.` } });
          }}
        >
          <p>
            Its users are <strong>disabled, never deleted</strong>: they keep their usernames, history and group memberships.
          </p>
          <p>The profile is removed; its runs and audit trail stay.</p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

/** A refusal; a run already going is one click away. */
function ActionProblem({ problem }: { problem: ApiProblem }) {
  const runId = typeof problem.body.runId === 'string' ? problem.body.runId : undefined;
  return (
    <>
      <Problem problem={problem} />
      {runId ? <Link to={`/runs/${encodeURIComponent(runId)}`}>Go to run {runId}</Link> : null}
    </>
  );
}

function TestOutcome({ result }: { result: TestResult }) {
  return (
    <div className={result.ok ? 'notice ok' : 'notice'} role={result.ok ? 'status' : 'alert'}>
      <p>
        <strong>{result.ok ? 'Connection works.' : 'Connection failed.'}</strong> {result.detail}
      </p>
      {result.code ? <p className="muted">Code: {result.code}</p> : null}
      {result.warnings.length ? (
        <ul>
          {result.warnings.map((warning) => (
            <li key={warning}>Warning: {warning}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Upload CSV: the file a "blob" profile reads (PUT /api/connections/{name}/csv); the next sync reads it. */
function CsvUpload({ connection }: { connection: Connection }) {
  const id = useId();
  const [file, setFile] = useState<File>();
  const [status, setStatus] = useState('');
  const { busy, problem, run } = useAction();
  const upload = (chosen: File) =>
    run(async () => {
      setStatus('');
      // Sent as text/csv whatever the browser guesses for the file's extension (the API takes text/csv or octet-stream).
      const uploaded = await api<OutputOf<'connections.uploadCsv'>>('PUT', `connections/${segment(connection.name)}/csv`, { file: new File([chosen], chosen.name, { type: 'text/csv' }) });
      setStatus(`Uploaded ${chosen.name} (${uploaded.bytes} bytes) as ${uploaded.blobName}. The next sync reads it.`);
    });
  return (
    <section aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Upload CSV</h2>
      <div className="toolbar">
        <div>
          <label htmlFor={`${id}-file`}>CSV file</label>
          <input id={`${id}-file`} type="file" accept=".csv,.txt,text/csv" onChange={(event) => setFile(event.target.files?.[0])} />
        </div>
        <button type="button" disabled={!file || busy} onClick={() => file && void upload(file)}>
          Upload
        </button>
      </div>
      <p role="status">{status}</p>
      {problem ? <Problem problem={problem} /> : null}
    </section>
  );
}
