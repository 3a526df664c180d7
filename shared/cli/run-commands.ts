import { userInfo } from 'node:os';
import type { CliContext } from './cli.js';
import type { CommandInput } from './command-line.js';
import { EXIT, runExitCode } from './exit-codes.js';
import type { CliIo } from './output.js';
import { awaitRun } from '../host/await-run.js';
import { cancelRun } from '../sync/pipeline/cancel-run.js';
import { confirmRun } from '../sync/pipeline/confirm-run.js';
import { summarise } from '../sync/pipeline/finalise-job.js';
import { SHARD_COUNT } from '../sync/rules/partitioning.js';
import { startOrResumeRun } from '../sync/pipeline/resume-run.js';
import type { Run } from '../sync/run-model.js';
import { readPlan } from '../sync/pipeline/staging.js';

/**
 * The lease on the messages the CLI works, renewed while it runs. Short, unlike the Functions host's
 * minutes: when the CLI is killed (Ctrl-C, a closed terminal), what it held comes back this soon for the
 * next `usersync sync` to resume.
 */
export const CLI_LEASE_SECONDS = 30;

/** `sync NAME`: starts a run — or takes over the profile's run that is still going — and drives it to its end. */
export async function syncCommand({ args: [name = ''], flags }: CommandInput, context: CliContext): Promise<number> {
  const { app, io } = context;
  const fromRunId = typeof flags['from-run'] === 'string' ? flags['from-run'] : undefined;
  const { run: started, resumed } = await startOrResumeRun(app.deps, {
    connection: name,
    trigger: 'manual',
    dryRun: flags['dry-run'] === true,
    incremental: flags.incremental === true,
    ...(fromRunId ? { fromRunId } : {}),
  });
  const dry = started.dryRun ? ' (dry run: nothing will change)' : '';
  if (resumed) {
    io.out(`Run ${started.runId} (${started.kind}) of "${started.connection}" is still going (${started.state}, started ${started.startedAt})${dry}; driving it to its end.`);
    io.out(`  what a stopped usersync was working on comes back within ${CLI_LEASE_SECONDS} s.`);
  } else {
    io.out(`Run ${started.runId} (${started.kind}) started for "${started.connection}"${dry}.`);
  }
  const run = await drive(context, started.runId);
  printRun(io, run);
  if (run.dryRun) await printPlan(context, run);
  return runExitCode(run);
}

export async function confirmCommand({ args: [runId = ''] }: CommandInput, context: CliContext): Promise<number> {
  const { app, io } = context;
  const confirmed = await confirmRun(app.deps, runId);
  io.out(`Run ${runId} confirmed: disabling ${confirmed.heldDisables?.count ?? 0} user(s).`);
  const run = await drive(context, runId);
  printRun(io, run);
  return runExitCode(run);
}

export async function cancelCommand({ args: [runId = ''] }: CommandInput, { app, io }: CliContext): Promise<number> {
  const run = await cancelRun(app.deps, runId, `${adminName()} (usersync CLI)`);
  io.out(`Run ${run.runId} of "${run.connection}" cancelled; no one was disabled.`);
  io.out(`  what it had already created or updated stays: usersync audit --run ${run.runId}`);
  return EXIT.succeeded;
}

/** Who is at the keyboard, for the audit record; some containers have no user name to give. */
function adminName(): string {
  try {
    return userInfo().username || 'an admin';
  } catch {
    return 'an admin';
  }
}

/** Works the queues with the app's own handlers (as the Functions host would) until the run ends. */
function drive({ app, definitions, queueWorkers }: CliContext, runId: string): Promise<Run> {
  return awaitRun(app, definitions, runId, { ...(queueWorkers ? { queueWorkers } : {}), messageLeaseSeconds: CLI_LEASE_SECONDS });
}

function printRun(io: CliIo, run: Run): void {
  io.out(`Run ${run.runId} ${run.state}${run.dryRun ? ' (dry run)' : ''}: ${summarise(run.counts)}.`);
  io.out(`  pages read: ${run.pagesFetched}; listing ${run.listing}; started ${run.startedAt}${run.endedAt ? `, ended ${run.endedAt}` : ''}`);
  if (run.error) io.out(`  error [${run.error.code}]: ${run.error.message}`);
  for (const warning of run.warnings) io.out(`  warning: ${warning}`);
  if (run.heldDisables && run.state === 'needs-confirmation') {
    const { count, usernames } = run.heldDisables;
    io.out(`  held: ${count} user(s) to disable${count > usernames.length ? `, the first ${usernames.length}` : ''}: ${usernames.join(', ')}`);
    io.out(`  to disable them: usersync confirm ${run.runId} — or fix the source; the next run re-evaluates.`);
  }
  if (run.counts.skipped) {
    const reasons = Object.entries(run.skipReasons).map(([reason, count]) => `${reason} ${count}`).join(', ');
    io.out(`  skipped: ${reasons} — each row and why: usersync audit --run ${run.runId} --action skipped`);
  }
}

/** A dry run's plan, from its shard plans: what would happen to whom. */
async function printPlan({ app, io }: CliContext, run: Run): Promise<void> {
  const lines: string[] = [];
  for (let shard = 0; shard < SHARD_COUNT; shard++) {
    const plan = await readPlan(app.deps.runFiles, run.runId, shard);
    if (!plan) continue;
    for (const decision of [...plan.decisions, ...plan.sourceDisables, ...plan.pendingDisables]) {
      if (decision.action === 'unchanged') continue;
      if (decision.action === 'skip') lines.push(`skip      ${decision.ref}: ${decision.reason} — ${decision.detail}`);
      else if (decision.action === 'conflict') lines.push(`conflict  ${decision.username} (${decision.ref}): ${decision.detail}`);
      else lines.push(`${decision.action.padEnd(9)} ${decision.user.username} (${decision.ref})${decision.changedFields.length ? ` fields: ${decision.changedFields.join(', ')}` : ''}`);
    }
  }
  io.out(lines.length ? 'Plan:' : 'Plan: no changes.');
  for (const line of lines.sort()) io.out(`  ${line}`);
}
