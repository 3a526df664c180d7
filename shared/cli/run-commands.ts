import { LOCAL_LEASE_SECONDS, type AdminClient } from '../admin/client.js';
import type { OutputOf } from '../admin/operations.js';
import { isTerminal, summarise, type Run, type RunView } from '../admin/views.js';
import type { CliContext } from './cli.js';
import type { CommandInput } from './command-line.js';
import { EXIT, runExitCode } from './exit-codes.js';
import type { CliIo } from './output.js';

/** `sync NAME`: starts a run — or takes over the profile's run that is still going — and waits for its end. */
export async function syncCommand({ args: [name = ''], flags }: CommandInput, { client, io }: CliContext): Promise<number> {
  const fromRun = typeof flags['from-run'] === 'string' ? flags['from-run'] : undefined;
  const started = await client.call('connections.sync', {
    name,
    dryRun: flags['dry-run'] === true,
    incremental: flags.incremental === true,
    ...(fromRun ? { fromRun } : {}),
    resume: true,
  });
  // --json: the ended run as GET /runs/{id} shows it, and nothing else.
  if (flags.json) {
    const run = await client.waitForRun(started.runId);
    io.out(JSON.stringify(run));
    return runExitCode(run);
  }
  const dry = started.dryRun ? ' (dry run: nothing will change)' : '';
  if (started.resumed) {
    io.out(`Run ${started.runId} (${started.kind}) of "${started.connection}" is still going (${started.state}, started ${started.startedAt})${dry}; driving it to its end.`);
    io.out(`  what a stopped usersync was working on comes back within ${LOCAL_LEASE_SECONDS} s.`);
  } else {
    io.out(`Run ${started.runId} (${started.kind}) started for "${started.connection}"${dry}.`);
  }
  const run = await waitShowingProgress(client, io, started.runId);
  printRun(io, run);
  if (run.dryRun) printPlan(io, await client.call('runs.plan', { id: run.runId }));
  return runExitCode(run);
}

export async function confirmCommand({ args: [id = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const confirmed = await client.call('runs.confirm', { id });
  io.out(`Run ${id} confirmed: disabling ${confirmed.disabling} user(s).`);
  const run = await waitShowingProgress(client, io, id);
  printRun(io, run);
  return runExitCode(run);
}

/** Waits for the run's end, showing how far it has come (where the output shows progress). */
function waitShowingProgress(client: AdminClient, io: CliIo, runId: string): Promise<RunView> {
  const { progress } = io;
  // The ended run is printed in full next: no progress line for it.
  const onProgress = (run: RunView) => {
    if (!isTerminal(run.state)) progress?.(progressLine(run));
  };
  return client.waitForRun(runId, progress ? { onProgress } : {});
}

/** Who throttles a listing, by the profile's type. */
const DIRECTORY_NAMES: Record<Run['profile']['type'], string> = { entra: 'Microsoft Graph', okta: 'Okta', csv: 'the CSV server', scim: 'the SCIM client' };

/** `reconciling: 12 page(s) read, 5 of 16 shards done; so far 40 created, 2 updated` (`listing, throttled by Microsoft Graph until 18:42:10 UTC: …`) */
export function progressLine({ state, profile, progress: { pagesRead, shardsDone, shards, counts, throttledUntil } }: RunView): string {
  const soFar = Object.entries(counts)
    .filter(([, count]) => count > 0)
    .map(([action, count]) => `${count} ${action}`)
    .join(', ');
  const throttled = throttledUntil ? `, throttled by ${DIRECTORY_NAMES[profile.type]} until ${throttledUntil.slice(11, 19)} UTC` : '';
  return `${state}${throttled}: ${pagesRead} page(s) read, ${shardsDone} of ${shards} shards done${soFar ? `; so far ${soFar}` : ''}`;
}

export async function cancelCommand({ args: [id = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const run = await client.call('runs.cancel', { id });
  io.out(`Run ${run.runId} of "${run.connection}" cancelled; no one was disabled.`);
  io.out(`  what it had already created or updated stays: usersync audit --run ${run.runId}`);
  return EXIT.succeeded;
}

export async function planCommand({ args: [id = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  printPlan(io, await client.call('runs.plan', { id }));
  return EXIT.succeeded;
}

function printRun(io: CliIo, run: Run): void {
  io.out(`Run ${run.runId} ${run.state}${run.dryRun ? ' (dry run)' : ''}: ${summarise(run.counts)}.`);
  io.out(`  pages read: ${run.pagesFetched}; listing ${run.listing}; started ${run.startedAt}${run.endedAt ? `, ended ${run.endedAt}` : ''}`);
  if (run.error) io.out(`  error [${run.error.code}]: ${run.error.message}`);
  for (const warning of run.warnings) io.out(`  warning: ${warning}`);
  for (const line of heldLines(run)) io.out(`  ${line}`);
  if (run.counts.skipped) {
    const reasons = Object.entries(run.skipReasons).map(([reason, count]) => `${reason} ${count}`).join(', ');
    io.out(`  skipped: ${reasons} — each row and why: usersync audit --run ${run.runId} --action skipped`);
  }
}

/** Who a run held for confirmation waits to disable (the first ones it keeps, and how many more), and what to do. */
export function heldLines(run: Run): string[] {
  if (!run.heldDisables || run.state !== 'needs-confirmation') return [];
  const { count, usernames } = run.heldDisables;
  const more = count > usernames.length ? ` and ${count - usernames.length} more` : '';
  return [
    `held: ${count} user(s) to disable: ${usernames.join(', ')}${more}`,
    `to disable them: usersync confirm ${run.runId} — or fix the source; the next run re-evaluates.`,
  ];
}

/** A run's plan: what would happen (or happens) to whom. */
function printPlan(io: CliIo, { changes }: OutputOf<'runs.plan'>): void {
  const lines = changes.map((change) => {
    if (change.action === 'skip') return `skip      ${change.ref}: ${change.reason} — ${change.detail}`;
    if (change.action === 'conflict') return `conflict  ${change.username} (${change.ref}): ${change.detail}`;
    return `${change.action.padEnd(9)} ${change.username} (${change.ref})${change.changedFields?.length ? ` fields: ${change.changedFields.join(', ')}` : ''}`;
  });
  io.out(lines.length ? 'Plan:' : 'Plan: no changes.');
  for (const line of lines.sort()) io.out(`  ${line}`);
}
