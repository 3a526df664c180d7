import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ComposedApp } from '../app/compose.js';
import type { FunctionDefinition } from '../app/registry.js';
import { availableGroups, testConnection } from '../connections/connection-checks.js';
import { parseProfile } from '../connections/profile.js';
import { AppError, isAppError } from '../errors/app-error.js';
import { awaitRun } from '../host/await-run.js';
import { requestReset } from '../http/api.js';
import { summarise } from '../sync/finalise-job.js';
import { SHARD_COUNT } from '../sync/partitioning.js';
import type { Run } from '../sync/run-model.js';
import { COUNTED_ACTIONS, LOCAL_DIRECTORY, type StoredUser } from '../sync/model.js';
import { confirmRun } from '../sync/confirm-run.js';
import { startRun } from '../sync/start-run.js';
import { paths, type ShardPlan } from '../sync/staging.js';
import type { AuditAction } from '../audit/audit-log.js';
import { addLocalAccount, adopt } from '../accounts/local-accounts.js';
import { addLocalGroup, addLocalGroupMember, groupMembers } from '../accounts/local-groups.js';
import { orgChartOf, visibleUser } from '../accounts/org-chart-view.js';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface CliContext {
  app: ComposedApp;
  definitions: FunctionDefinition[];
  io: CliIo;
  /** How `sync` processes the run's queue messages while it waits (the same handlers as the Functions host). */
  queueWorkers?: number;
}

export const USAGE = `usersync — User Directory Sync admin CLI

  usersync connection put FILE.json        create or replace a connection profile
  usersync connection list                 list profiles with their last run
  usersync connection test NAME            reach the directory with the profile's credentials
  usersync connection groups NAME          the directory's groups an admin can select (Entra, Okta)
  usersync csv upload NAME FILE            upload the CSV file a "blob" profile reads
  usersync sync NAME [--dry-run] [--from-run RUN_ID] [--incremental]
                                           run a sync now and wait for it (exit 1 if it failed);
                                           --incremental reads only changes (Entra) when it can
  usersync reset NAME                      let the scheduler start a run on its next tick
  usersync confirm RUN_ID                  disable the users a run held back (the disable guard tripped)
  usersync status [NAME]                   profiles and recent runs
  usersync users [--connection NAME] [--json]
  usersync user add USERNAME --email E --first-name F --last-name L [--password-setting NAME]
                                           create a local account (never changed by sync)
  usersync licences [recount]              licences in use against USERSYNC_LICENCE_LIMIT
  usersync groups                          every group, where it comes from
  usersync group add NAME                  create a local group
  usersync group add-member NAME USERNAME  add a user to a local group
  usersync group members NAME              list a group's members
  usersync orgchart USERNAME              the user's managers up the chain and direct reports
  usersync adopt NAME [--dry-run]          move local accounts the last run of NAME reported as
                                           conflicts into that directory
  usersync audit [--run RUN_ID] [--action ACTION] [--user KEY] [--limit N] [--json]

Settings come from the environment or local.settings.json (see local.settings.sample.json).`;

/** Runs one CLI command; returns the exit code (0 ok, 1 the run failed, 2 bad usage or input). */
export async function runCli(argv: string[], context: CliContext): Promise<number> {
  const { io } = context;
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case 'connection':
        return await connectionCommand(rest, context);
      case 'csv':
        return await csvCommand(rest, context);
      case 'sync':
        return await syncCommand(rest, context);
      case 'reset':
        return await resetCommand(rest, context);
      case 'confirm':
        return await confirmCommand(rest, context);
      case 'status':
        return await statusCommand(rest, context);
      case 'users':
        return await usersCommand(rest, context);
      case 'audit':
        return await auditCommand(rest, context);
      case 'user':
        return await userCommand(rest, context);
      case 'adopt':
        return await adoptCommand(rest, context);
      case 'orgchart':
        return await orgChartCommand(rest, context);
      case 'groups':
        return await groupsCommand(context);
      case 'licences':
        return await licencesCommand(rest, context);
      case 'group':
        return await groupCommand(rest, context);
      case undefined:
      case 'help':
      case '--help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`Unknown command "${command}".\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (!isAppError(error)) throw error;
    io.err(`error [${error.code}]: ${error.message}`);
    const problems = error.details?.problems;
    if (Array.isArray(problems)) for (const problem of problems) io.err(`  - ${problem.field}: ${problem.message}`);
    return 2;
  }
}

async function connectionCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const [action, file] = args;
  if (action === 'put' && file) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new AppError('profile-invalid', `${file} is not readable JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    const { connection, created } = await app.deps.connections.put(parseProfile(json), app.deps.clock().toISOString());
    io.out(`${created ? 'Created' : 'Updated'} connection "${connection.profile.name}" (${connection.profile.type}, directory key ${connection.directoryKey}).`);
    return 0;
  }
  if (action === 'list') {
    const connections = await app.deps.connections.list();
    if (!connections.length) io.out('No connection profiles yet: usersync connection put FILE.json');
    printTable(
      io,
      ['NAME', 'TYPE', 'ENABLED', 'SCHEDULE', 'LAST RUN', 'STATUS', 'ACTIVE RUN'],
      connections.map(({ profile, state }) => [
        profile.name,
        profile.type,
        profile.enabled ? 'yes' : 'no',
        describeSchedule(profile.schedule),
        state.lastRunId ?? '-',
        state.lastRunStatus ?? '-',
        state.activeRunId ?? '-',
      ]),
    );
    return 0;
  }
  if (action === 'test' && file) {
    const result = await testConnection(app.deps, file);
    io.out(result.ok ? `OK: ${result.detail}` : `FAILED [${result.code}]: ${result.detail}`);
    for (const warning of result.warnings) io.out(`warning: ${warning}`);
    return result.ok ? 0 : 1;
  }
  if (action === 'groups' && file) {
    const groups = await availableGroups(app.deps, file);
    printTable(io, ['ID', 'NAME', 'KIND'], groups.map((group) => [group.id, group.name, group.kind]));
    io.out(`${groups.length} group(s).`);
    return 0;
  }
  throw new AppError('body-invalid', 'Use: usersync connection put FILE.json | list | test NAME | groups NAME');
}

async function csvCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const [action, name, file] = args;
  if (action !== 'upload' || !name || !file) throw new AppError('body-invalid', 'Use: usersync csv upload NAME FILE');
  const connection = await app.deps.connections.get(name);
  if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  const { profile } = connection;
  if (profile.type !== 'csv' || profile.source.kind !== 'blob') {
    throw new AppError('profile-invalid', `"${profile.name}" does not read an uploaded CSV file (its source is not "blob").`);
  }
  const bytes = await app.csvFiles.putStream(profile.source.blobName, createReadStream(file));
  io.out(`Uploaded ${file} (${bytes} bytes) as "${profile.source.blobName}" for "${profile.name}".`);
  return 0;
}

async function syncCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'dry-run': { type: 'boolean', default: false }, 'from-run': { type: 'string' }, incremental: { type: 'boolean', default: false } },
  });
  const [name] = positionals;
  if (!name) throw new AppError('body-invalid', 'Use: usersync sync NAME [--dry-run] [--from-run RUN_ID]');
  const { app, io } = context;
  const started = await startRun(app.deps, {
    connection: name,
    trigger: 'manual',
    dryRun: values['dry-run'],
    incremental: values.incremental,
    ...(values['from-run'] ? { fromRunId: values['from-run'] } : {}),
  });
  io.out(`Run ${started.runId} (${started.kind}) started for "${started.connection}"${started.dryRun ? ' (dry run: nothing will change)' : ''}.`);
  const run = await awaitRun(app, context.definitions, started.runId, { ...(context.queueWorkers ? { queueWorkers: context.queueWorkers } : {}) });
  printRun(io, run);
  if (run.dryRun) await printPlan(context, run);
  return run.state === 'succeeded' ? 0 : 1;
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
    const content = await app.deps.runFiles.get(paths.plan(run.runId, shard));
    if (!content) continue;
    const plan = JSON.parse(String(content)) as ShardPlan;
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

async function confirmCommand(args: string[], context: CliContext): Promise<number> {
  const [runId] = args;
  if (!runId) throw new AppError('body-invalid', 'Use: usersync confirm RUN_ID');
  const { app, io } = context;
  const confirmed = await confirmRun(app.deps, runId);
  io.out(`Run ${runId} confirmed: disabling ${confirmed.heldDisables?.count ?? 0} user(s).`);
  const run = await awaitRun(app, context.definitions, runId, { ...(context.queueWorkers ? { queueWorkers: context.queueWorkers } : {}) });
  printRun(io, run);
  return run.state === 'succeeded' ? 0 : 1;
}

async function resetCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const [name] = args;
  if (!name) throw new AppError('body-invalid', 'Use: usersync reset NAME');
  const connection = await requestReset(app.deps, name);
  io.out(`Reset "${connection}": the scheduler starts a run on its next tick.`);
  return 0;
}

async function statusCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const [name] = args;
  const runs = await app.deps.runs.list({ ...(name ? { connection: name } : {}), limit: name ? 10 : 20 });
  if (!runs.length) io.out('No runs yet.');
  printTable(
    io,
    ['RUN', 'CONNECTION', 'STATE', 'TRIGGER', 'PAGES', ...COUNTED_ACTIONS.map((action) => action.toUpperCase()), 'ERROR'],
    runs.map((run) => [
      run.runId + (run.dryRun ? ' (dry)' : ''),
      run.connection,
      run.state,
      run.trigger,
      String(run.pagesFetched),
      ...COUNTED_ACTIONS.map((action) => String(run.counts[action])),
      run.error?.code ?? '',
    ]),
  );
  return 0;
}

async function usersCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { connection: { type: 'string' }, json: { type: 'boolean', default: false } } });
  let directoryKey: string | undefined;
  if (values.connection) {
    const connection = await app.deps.connections.get(values.connection);
    if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${values.connection}".`);
    directoryKey = connection.directoryKey;
  }
  const rows: string[][] = [];
  for await (const user of app.deps.users.list(directoryKey)) {
    if (values.json) io.out(JSON.stringify(visibleUser(user)));
    else rows.push([user.username, user.email, user.firstName, user.lastName, user.status, user.connection, Object.entries(user.attributes).map(([k, v]) => `${k}=${v}`).join(' ')]);
  }
  if (!values.json) {
    rows.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
    printTable(io, ['USERNAME', 'EMAIL', 'FIRST NAME', 'LAST NAME', 'STATUS', 'CONNECTION', 'ATTRIBUTES'], rows);
    io.out(`${rows.length} user(s).`);
  }
  return 0;
}

async function auditCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      run: { type: 'string' },
      action: { type: 'string' },
      user: { type: 'string' },
      limit: { type: 'string', default: '200' },
      json: { type: 'boolean', default: false },
    },
  });
  const page = await app.deps.audit.query({
    ...(values.run ? { runId: values.run } : {}),
    ...(values.action ? { action: values.action as AuditAction } : {}),
    ...(values.user ? { subject: values.user.toLowerCase() } : {}),
    limit: Number(values.limit),
  });
  page.records.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  for (const record of page.records) {
    if (values.json) io.out(JSON.stringify(record));
    else {
      const what = [record.username ?? record.subject, record.ref ? `(${record.ref})` : ''].filter(Boolean).join(' ');
      const why = [record.changedFields?.length ? `fields: ${record.changedFields.join(', ')}` : '', record.reason ?? '', record.detail ?? ''].filter(Boolean).join(' — ');
      io.out(`${record.at}  ${record.runId}  ${record.action.padEnd(13)} ${what}${why ? `  ${why}` : ''}`);
    }
  }
  if (!values.json) io.out(`${page.records.length} record(s)${page.continuationToken ? ' (more: raise --limit)' : ''}.`);
  return 0;
}

async function userCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      'password-setting': { type: 'string' },
    },
  });
  const [action, username] = positionals;
  if (action !== 'add' || !username) throw new AppError('body-invalid', 'Use: usersync user add USERNAME --email E --first-name F --last-name L [--password-setting NAME]');
  const password = values['password-setting'] ? app.deps.secrets.resolve(values['password-setting']) : undefined;
  const user = await addLocalAccount(app.deps, {
    username,
    email: values.email ?? '',
    firstName: values['first-name'] ?? '',
    lastName: values['last-name'] ?? '',
    ...(password ? { password } : {}),
  });
  io.out(`Created local account "${user.username}" (${user.status}).`);
  return 0;
}

async function adoptCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'dry-run': { type: 'boolean', default: false } } });
  const [name] = positionals;
  if (!name) throw new AppError('body-invalid', 'Use: usersync adopt NAME [--dry-run]');
  // What will happen is printed first, then (without --dry-run) done.
  const plan = await adopt(app.deps, name, { dryRun: true });
  for (const adoption of plan.adoptions) io.out(`will adopt local account "${adoption.username}" into "${plan.connection}"`);
  for (const note of plan.notes) io.out(`note: ${note}`);
  const source = plan.fromRunId ? ` (from the conflicts of run ${plan.fromRunId})` : '';
  if (values['dry-run'] || !plan.adoptions.length) {
    io.out(`${plan.adoptions.length} local account(s) to adopt${source}; nothing changed.`);
    return 0;
  }
  const done = await adopt(app.deps, name, { dryRun: false });
  io.out(`Adopted ${done.adoptions.length} local account(s) into "${done.connection}"${source}; the next sync updates them from the directory.`);
  return 0;
}

async function orgChartCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const [username] = args;
  if (!username) throw new AppError('body-invalid', 'Use: usersync orgchart USERNAME');
  const { user, chain, loops, reports } = await orgChartOf(app.deps, username);
  const describe = (u: StoredUser) => `${u.username} — ${u.firstName} ${u.lastName}${u.status === 'active' ? '' : ` (${u.status})`}`;
  io.out(`Org chart of ${user.username} (${user.connection})`);
  [...chain].reverse().forEach((manager, depth) => io.out(`${'  '.repeat(depth)}${describe(manager)}`));
  if (loops) io.out('  (the chain loops back here: a management cycle in the directory)');
  io.out(`${'  '.repeat(chain.length)}${describe(user)}   ← this user`);
  if (user.manager && !user.managerKey) io.out(`  manager "${user.manager}" is not a user of this directory`);
  for (const report of reports) io.out(`${'  '.repeat(chain.length + 1)}${describe(report)}`);
  io.out(`${reports.length} direct report(s).`);
  return 0;
}

async function licencesCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const { licences } = app.deps;
  if (args[0] === 'recount') {
    // The ledger is kept exact by the sync; a recount repairs it after manual edits of the tables.
    let active = 0;
    for await (const user of app.deps.users.list()) if (user.status === 'active') active++;
    await licences.reset(active);
  }
  io.out(`Licences in use: ${await licences.used()} of ${licences.limit ?? 'unlimited'}.`);
  return 0;
}

async function groupsCommand({ app, io }: CliContext): Promise<number> {
  const groups = await app.deps.groups.list();
  if (!groups.length) io.out('No groups yet.');
  printTable(io, ['GROUP', 'ORIGIN', 'CREATED'], groups.map((g) => [g.name, g.origin === LOCAL_DIRECTORY ? 'local' : `directory "${g.connection}"`, g.createdAt]));
  return 0;
}

async function groupCommand(args: string[], { app, io }: CliContext): Promise<number> {
  const [action, name, username] = args;
  if (action === 'add' && name) {
    const group = await addLocalGroup(app.deps, name);
    io.out(`Created local group "${group.name}".`);
    return 0;
  }
  if (action === 'add-member' && name && username) {
    const user = await addLocalGroupMember(app.deps, name, username);
    io.out(`Added "${user.username}" to the local group "${name}".`);
    return 0;
  }
  if (action === 'members' && name) {
    const members = await groupMembers(app.deps, name);
    for (const member of members) io.out(`${member.username}  (${member.connection})`);
    io.out(`${members.length} member(s).`);
    return 0;
  }
  throw new AppError('body-invalid', 'Use: usersync group add NAME | group add-member NAME USERNAME | group members NAME');
}

function describeSchedule(schedule: ReturnType<typeof parseProfile>['schedule']): string {
  switch (schedule.kind) {
    case 'off':
      return 'off';
    case 'hourly':
      return 'hourly';
    case 'interval':
      return `every ${schedule.minutes} min`;
    case 'daily':
      return `daily ${String(schedule.hour).padStart(2, '0')}:00 ${schedule.timeZone}`;
  }
}

function printTable(io: CliIo, header: string[], rows: string[][]): void {
  if (!rows.length) return;
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const format = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  io.out(format(header));
  for (const row of rows) io.out(format(row));
}
