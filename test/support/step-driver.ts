import type { JobQueue, JobQueueName } from '../../shared/sync/ports.js';
import type { SyncDependencies } from '../../shared/sync/dependencies.js';
import { runFinaliseJob } from '../../shared/sync/pipeline/finalise-job.js';
import { finaliseJobSchema, pageJobSchema, reconcileJobSchema } from '../../shared/sync/pipeline/jobs.js';
import { runPageJob } from '../../shared/sync/pipeline/page-job.js';
import { runReconcileJob } from '../../shared/sync/pipeline/reconcile-job.js';
import type { Run } from '../../shared/sync/run-model.js';
import { startRun, type StartRunRequest } from '../../shared/sync/pipeline/start-run.js';
import type { TestApp } from './test-app.js';

/**
 * Drives a run message by message with the real use cases on the real stores (Azurite), in an order
 * and with duplicates the test chooses: what an at-least-once queue with several workers may do.
 * Only the job queue is replaced (by this in-memory one), so the test decides who handles what, when.
 */

export interface QueuedJob {
  queue: JobQueueName;
  message: unknown;
}

/** How one message is delivered: once, twice one after the other, or to two workers at the same time. */
export type DeliveryMode = 'once' | 'twice' | 'concurrent';

export class RecordingQueue implements JobQueue {
  readonly pending: QueuedJob[] = [];
  readonly sent: QueuedJob[] = [];

  async send(queue: JobQueueName, message: unknown): Promise<void> {
    const job = { queue, message: structuredClone(message) };
    this.pending.push(job);
    this.sent.push(job);
  }
}

export interface SteppedApp {
  deps: SyncDependencies;
  queue: RecordingQueue;
  /** Every run the use cases reported as finished (telemetry), in order. */
  finished: Run[];
}

/** The app's dependencies with a recording queue and a fixed clock, so two apps produce comparable rows. */
export function stepped(t: TestApp, now = new Date('2026-11-21T10:00:00.000Z')): SteppedApp {
  const queue = new RecordingQueue();
  const finished: Run[] = [];
  const deps: SyncDependencies = {
    ...t.app.deps,
    queue,
    clock: () => new Date(now),
    log: () => undefined,
    runFinished: (run) => finished.push(run),
  };
  return { deps, queue, finished };
}

const MAX_ATTEMPTS = 5;

/** Handles one delivery of a job with the use case its queue feeds (as the functions do, after decoding). */
export async function handle(deps: SyncDependencies, job: QueuedJob, attempt = 1): Promise<void> {
  const delivery = { attempt, maxAttempts: MAX_ATTEMPTS };
  switch (job.queue) {
    case 'pages':
      return runPageJob(deps, pageJobSchema.parse(job.message), delivery);
    case 'reconcile':
      return runReconcileJob(deps, reconcileJobSchema.parse(job.message), delivery);
    case 'finalise':
      return runFinaliseJob(deps, finaliseJobSchema.parse(job.message));
  }
}

export interface DriveOptions {
  /** How the first copy of each distinct message is delivered (by the order messages first appear). */
  modeOf?: (job: QueuedJob, index: number) => DeliveryMode;
  /** Which pending message is delivered next (an index into the pending list); FIFO by default. */
  pick?: (pending: number, step: number) => number;
  /** Lets the test deliver a message itself (e.g. to interleave two workers); true when it did. */
  intercept?: (job: QueuedJob) => Promise<boolean>;
}

export interface DriveReport {
  /** Deliveries that threw and were delivered again, as a queue would (with the next dequeue count). */
  retried: { job: QueuedJob; error: unknown }[];
  deliveries: number;
  /** How many times a handler was given each distinct message (by `messageId`), retries included. */
  handled: Map<string, number>;
}

/** A message's identity: its queue and content (a job's messages carry no other id). */
export function messageId(job: QueuedJob): string {
  return `${job.queue}:${JSON.stringify(job.message)}`;
}

/**
 * Works the recording queue until it is empty. A message whose content was already delivered is a
 * redundant copy (a duplicate job sends its follow-up again): it was exercised by the first copy's mode,
 * so it is dropped here to keep the fan-out small.
 */
export async function drive(app: SteppedApp, options: DriveOptions = {}): Promise<DriveReport> {
  const seen = new Set<string>();
  const report: DriveReport = { retried: [], deliveries: 0, handled: new Map() };
  let index = 0;
  for (let step = 0; app.queue.pending.length > 0; step++) {
    if (step > 5000) throw new Error('the run does not converge');
    const at = options.pick ? options.pick(app.queue.pending.length, step) % app.queue.pending.length : 0;
    const [job] = app.queue.pending.splice(at, 1);
    if (!job) break;
    const id = messageId(job);
    if (seen.has(id)) continue;
    seen.add(id);
    if (await options.intercept?.(job)) continue;
    const mode = options.modeOf?.(job, index++) ?? 'once';
    const copies = mode === 'once' ? 1 : 2;
    const deliver = async (attempt: number): Promise<void> => {
      report.deliveries++;
      report.handled.set(id, (report.handled.get(id) ?? 0) + 1);
      try {
        await handle(app.deps, job, attempt);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS) throw error;
        report.retried.push({ job, error });
        await deliver(attempt + 1);
      }
    };
    if (mode === 'concurrent') await Promise.all([deliver(1), deliver(1)]);
    else for (let copy = 0; copy < copies; copy++) await deliver(1);
  }
  return report;
}

/** Starts a run with the stepped dependencies and drives it to its end. */
export async function steppedSync(
  app: SteppedApp,
  connection: string,
  options: DriveOptions & { request?: Partial<StartRunRequest> } = {},
): Promise<{ run: Run; report: DriveReport }> {
  const started = await startRun(app.deps, { connection, trigger: 'manual', startedBy: 'cli:tester', ...options.request });
  const report = await drive(app, options);
  const run = await app.deps.runs.get(started.runId);
  if (!run) throw new Error(`run ${started.runId} disappeared`);
  return { run, report };
}

/** What a run left behind, without what differs between two equal runs (run ids, directory keys, password salts). */
export interface Outcome {
  users: Record<string, unknown>[];
  audit: Record<string, unknown>[];
  run: Record<string, unknown>;
  licencesUsed: number;
  groups: string[];
  /** Each shard's recorded result: counted once, never overwritten with other numbers. */
  shards: unknown[];
}

export async function outcomeOf(deps: SyncDependencies, connection: string, run: Run): Promise<Outcome> {
  const stored = await deps.connections.get(connection);
  if (!stored) throw new Error(`no connection ${connection}`);
  const users: Record<string, unknown>[] = [];
  for await (const user of deps.users.list(stored.directoryKey)) {
    const { directoryKey: _key, passwordHash, ...rest } = user;
    users.push({ ...rest, hasPassword: passwordHash !== undefined });
  }
  users.sort((a, b) => (String(a.key) < String(b.key) ? -1 : 1));
  const records = [];
  let continuationToken: string | undefined;
  do {
    const page = await deps.audit.query({ runId: run.runId, limit: 1000, ...(continuationToken ? { continuationToken } : {}) });
    records.push(...page.records);
    continuationToken = page.continuationToken;
  } while (continuationToken);
  const audit = records
    .map((record) => JSON.parse(JSON.stringify(record).replaceAll(run.runId, 'RUN')) as Record<string, unknown>)
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  const { runId: _id, profile: _profile, directoryKey: _dk, ...runFields } = run;
  return {
    users,
    audit,
    run: runFields,
    licencesUsed: await deps.licences.used(),
    groups: (await deps.groups.list()).map((group) => group.name).sort(),
    shards: (await deps.runs.listShardResults(run.runId)).sort((a, b) => a.shard - b.shard),
  };
}

/**
 * A worker that stalls: `deps` whose `runs.<method>` (or `runFiles.get`) answers and then waits until
 * `release()` — a worker descheduled (GC pause, slow network) between reading state and acting on it.
 */
export function stalled(
  deps: SyncDependencies,
  method: 'get' | 'getPage' | 'listShardResults' | 'update',
  /** Stall after the nth call (a page job reads on through several pages). */
  nth = 1,
  port: 'runs' | 'runFiles' = 'runs',
): { deps: SyncDependencies; reached: Promise<void>; release: () => void } {
  let release!: () => void;
  let reach!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let calls = 0;
  const proxy = new Proxy<object>(deps[port], {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        const result = (await value.apply(target, args)) as unknown;
        if (++calls === nth) {
          reach();
          await gate;
        }
        return result;
      };
    },
  });
  return { deps: { ...deps, [port]: proxy }, reached, release };
}
