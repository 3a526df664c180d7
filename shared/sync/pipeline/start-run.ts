import { randomBytes } from 'node:crypto';
import { actorName } from '../../audit/audit-log.js';
import { AppError } from '../../errors/app-error.js';
import { secretNamesOf, type ConnectionProfile } from '../../connections/profile.js';
import { usableConnection } from '../../connections/usable-connection.js';
import { pushOnly } from '../push/push-only.js';
import type { SecretResolver } from '../../config/secrets.js';
import type { SyncDependencies } from '../dependencies.js';
import { emptyCounts } from '../model.js';
import { supersedeHeldRun } from './confirm-run.js';
import { isTerminal, newRunId, type Run, type RunTrigger } from '../run-model.js';
import { paths, runFilesExpired } from './staging.js';
import { initialChains, startChains } from './listing-chains.js';

export interface StartRunRequest {
  connection: string;
  trigger: RunTrigger;
  /** Who starts it: `timer`, or the admin's actor (`cli:ann`, `user:ann@contoso.com`); its audit records name them. */
  startedBy: string;
  dryRun?: boolean;
  /** CSV roll-back: read this earlier run's archived input instead of the source. */
  fromRunId?: string;
  /**
   * Ask for an incremental run. It is one only when the source supports it, the profile has a
   * checkpoint, and a full run succeeded within the last day; otherwise the run is full.
   */
  incremental?: boolean;
}

/**
 * Starts a run for one profile: claims the profile's single active-run slot (ETag), records the run
 * and queues its first page job. Throws `run-active` (with the active run's id) when a run is going.
 */
export async function startRun(deps: SyncDependencies, request: StartRunRequest): Promise<Run> {
  const connection = await usableConnection(deps, request.connection);
  const { profile } = connection;
  // Before the slot is claimed: a pushed directory has no listing to run.
  if (profile.type === 'scim') throw pushOnly(profile.name);
  if (!profile.enabled && !request.dryRun) {
    throw new AppError('connection-disabled', `The connection profile "${profile.name}" is disabled; enable it to sync (a dry run is allowed).`);
  }
  checkSecrets(profile, deps.secrets);
  if (request.fromRunId) await checkRollbackSource(deps, profile.name, request.fromRunId);

  const now = deps.clock();
  const runId = newRunId(now, randomBytes(3).toString('hex'));
  const observedActive = connection.state.activeRunId;
  if (observedActive) {
    const active = await deps.runs.get(observedActive);
    if (active && !isTerminal(active.state)) {
      throw new AppError('run-active', `A run of "${profile.name}" is already active (${observedActive}).`, { details: { runId: observedActive } });
    }
  }
  let lostRace: string | undefined;
  await deps.connections.updateState(profile.name, (current) => {
    if (current.state.activeRunId !== observedActive) {
      lostRace = current.state.activeRunId;
      return undefined;
    }
    const state = { ...current.state, activeRunId: runId, activeRunSince: now.toISOString() };
    if (request.dryRun) return state;
    delete state.resetRequestedAt;
    return {
      ...state,
      lastRunStartedAt: now.toISOString(),
      ...(request.trigger === 'manual' ? { lastManualRunAt: now.toISOString() } : {}),
    };
  });
  if (lostRace) {
    throw new AppError('run-active', `A run of "${profile.name}" was started at the same moment (${lostRace}).`, { details: { runId: lostRace } });
  }

  const { checkpoint, lastFullRunAt } = connection.state;
  const incremental =
    request.incremental === true &&
    !request.fromRunId &&
    deps.sources(profile).supportsIncremental &&
    checkpoint !== undefined &&
    lastFullRunAt !== undefined &&
    now.getTime() - Date.parse(lastFullRunAt) < 24 * 3_600_000;
  const listed: Run = {
    runId,
    connection: profile.name,
    directoryKey: connection.directoryKey,
    trigger: request.trigger,
    startedBy: request.startedBy,
    kind: incremental ? 'incremental' : 'full',
    ...(incremental ? { checkpoint } : {}),
    dryRun: request.dryRun ?? false,
    ...(request.fromRunId ? { fromRunId: request.fromRunId } : {}),
    profile,
    state: 'listing',
    pagesFetched: 0,
    listing: 'in-progress',
    shardsDone: 0,
    counts: emptyCounts(),
    skipReasons: {},
    unreadableRecords: 0,
    warnings: [],
    startedAt: now.toISOString(),
  };
  const run: Run = { ...listed, chains: initialChains(deps, listed) };
  await deps.runs.create(run);
  const { lastRunId, lastRunStatus } = connection.state;
  if (!run.dryRun && lastRunId && lastRunStatus === 'needs-confirmation') await supersedeHeldRun(deps, lastRunId, run);
  if (!run.dryRun) {
    await deps.audit.write([
      {
        runId,
        connection: profile.name,
        action: 'run-started',
        subject: runId,
        detail: `${request.trigger === 'manual' ? `Manual run started by ${actorName(run.startedBy)}` : 'Scheduled run started'}${request.fromRunId ? ` from the input of run ${request.fromRunId}` : ''}.`,
        actor: run.startedBy,
        at: run.startedAt,
      },
    ]);
  }
  await startChains(
    deps,
    runId,
    Object.keys(run.chains!).filter((chain) => run.chains![chain]!.state === 'listing'),
  );
  deps.log(`run ${runId} started for ${profile.name} (${request.trigger}${run.dryRun ? ', dry run' : ''})`);
  return run;
}

/** Fail before starting, not half way: every secret the profile names must be set. */
function checkSecrets(profile: ConnectionProfile, secrets: SecretResolver): void {
  for (const name of secretNamesOf(profile)) secrets.resolve(name);
}

async function checkRollbackSource(deps: SyncDependencies, connection: string, fromRunId: string): Promise<void> {
  const earlier = await deps.runs.get(fromRunId);
  if (!earlier || earlier.connection !== connection) {
    throw new AppError('run-not-found', `Run ${fromRunId} is not a run of "${connection}", so its input cannot be re-synced.`);
  }
  if (await deps.runFiles.exists(paths.archive(fromRunId))) return;
  if (runFilesExpired(earlier.startedAt, deps.clock(), deps.archiveDays)) {
    throw new AppError(
      'run-files-expired',
      `The input of run ${fromRunId} was deleted: a run's files are kept ${deps.archiveDays} days (USERSYNC_ARCHIVE_DAYS). Re-sync from a later run, or upload the file again.`,
    );
  }
  throw new AppError(
    'run-not-found',
    `Run ${fromRunId} kept no archived input to re-sync from (it did not read a CSV file, or ran before archives were kept without passwords).`,
  );
}
