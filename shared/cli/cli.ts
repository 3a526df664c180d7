import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { AdminClient } from '../admin/client.js';
import { instant } from '../admin/fields.js';
import type { OutputOf } from '../admin/operations.js';
import { COUNTED_ACTIONS } from '../admin/views.js';
import { AppError, describeError, isAppError } from '../errors/app-error.js';
import { resolveCommand, takeGlobalOptions, usageOf, type CommandInput, type CommandSpec, type GlobalOptions } from './command-line.js';
import { errorExitCode, EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { escapingIo, printLines, printTable, type CliIo } from './output.js';
import { userDelete, userDisable, userEnable, userList, userSetPassword, userShow } from './account-commands.js';
import {
  adoptCommand,
  groupAdd,
  groupAddMember,
  groupDelete,
  groupMembersCommand,
  groupRemoveMember,
  groupsCommand,
  licencesCommand,
  orgChartCommand,
  userAdd,
  usersCommand,
} from './directory-commands.js';
import { cancelCommand, confirmCommand, heldLines, planCommand, syncCommand } from './run-commands.js';

export type { CliIo } from './output.js';

export interface CliContext {
  /** The admin core: every command is a call of it (or a wait for a run), formatted. */
  client: AdminClient;
  io: CliIo;
}

const DEFAULT_AUDIT_LIMIT = 200;
const INSTANT_FLAG = { value: 'ISO', schema: instant, means: 'an ISO 8601 date (2026-11-21) or date and time with Z or an offset (2026-11-21T09:30:00Z)' };
const MAX_AUDIT_LIMIT = 10_000;
/** A page of the audit table holds at most this many records. */
const AUDIT_PAGE_SIZE = 1000;

/** Every command, in the order the usage lists them. */
export const COMMANDS: CommandSpec<CliContext>[] = [
  { words: 'connection put', args: ['FILE.json'], help: 'create or replace a connection profile', run: connectionPut },
  { words: 'connection list', help: 'list profiles with their last and next run', run: connectionList },
  { words: 'connection test', args: ['NAME'], help: "reach the directory with the profile's credentials", run: connectionTest },
  { words: 'connection groups', args: ['NAME'], help: "the directory's groups an admin can select (Entra, Okta)", run: connectionGroups },
  {
    words: 'connection delete',
    args: ['NAME'],
    flags: { yes: true },
    required: ['yes'],
    help: 'delete a profile; its users are disabled, not deleted',
    run: connectionDelete,
  },
  { words: 'csv upload', args: ['NAME', 'FILE'], help: 'upload the CSV file a "blob" profile reads', run: csvUpload },
  {
    words: 'sync',
    args: ['NAME'],
    flags: { 'dry-run': true, 'from-run': 'RUN_ID', incremental: true, json: true },
    help:
      "run a sync now and wait for it, showing its progress;\nif the profile's run is still going (its driver was\nkilled), drive it to its end. --dry-run only plans;\n--from-run re-syncs an earlier run's CSV input;\n--incremental reads only changes (Entra, Okta) when it\ncan; --json prints only the ended run, as JSON",
    run: syncCommand,
  },
  { words: 'run cancel', args: ['RUN_ID'], help: 'end an active run as cancelled, disabling no one', run: cancelCommand },
  { words: 'run plan', args: ['RUN_ID'], help: 'what a dry run (or a held run) planned, read again', run: planCommand },
  { words: 'confirm', args: ['RUN_ID'], help: 'disable the users a run held back (the disable guard tripped)', run: confirmCommand },
  { words: 'reset', args: ['NAME'], help: 'let the scheduler start a run on its next tick', run: resetCommand },
  { words: 'status', args: ['[NAME]'], help: 'recent runs, of one profile or all, and whom a held\nrun waits to disable', run: statusCommand },
  {
    words: 'users',
    flags: { connection: 'NAME', json: true, csv: true },
    help: 'users of one profile, or all (--json: JSON lines;\n--csv: the CSV export, for a spreadsheet)',
    run: usersCommand,
  },
  {
    words: 'user add',
    args: ['USERNAME'],
    flags: { email: 'E', 'first-name': 'F', 'last-name': 'L', 'password-setting': 'NAME' },
    required: ['email', 'first-name', 'last-name'],
    help: 'create a local account (never changed by sync);\n--password-setting names the setting with its password',
    run: userAdd,
  },
  { words: 'user list', help: 'the local accounts', run: userList },
  { words: 'user show', args: ['USERNAME'], help: 'one local account', run: userShow },
  { words: 'user disable', args: ['USERNAME'], help: 'disable a local account; its licence is freed', run: userDisable },
  { words: 'user enable', args: ['USERNAME'], help: 'enable a local account again (blocked if no licence\nis free)', run: userEnable },
  {
    words: 'user delete',
    args: ['USERNAME'],
    flags: { yes: true },
    required: ['yes'],
    help: 'delete a local account; its username and licence\nare freed (directory users are never deleted)',
    run: userDelete,
  },
  {
    words: 'user set-password',
    args: ['USERNAME'],
    flags: { 'password-setting': 'NAME' },
    help: 'give a local account a one-time password, changed at\nthe next sign-in: generated and shown once, or the\nvalue of the app setting NAME',
    run: userSetPassword,
  },
  {
    words: 'licences',
    help: 'licences in use against USERSYNC_LICENCE_LIMIT, per\nprofile, and the users waiting for one',
    run: (_input, context) => licencesCommand(context, 'licences.show'),
  },
  { words: 'licences recount', help: 'count them again from the users (after editing tables by hand)', run: (_input, context) => licencesCommand(context, 'licences.recount') },
  { words: 'groups', help: 'every group, where it comes from', run: groupsCommand },
  { words: 'group add', args: ['NAME'], help: 'create a local group', run: groupAdd },
  { words: 'group add-member', args: ['NAME', 'USERNAME'], help: 'add a user to a local group', run: groupAddMember },
  { words: 'group remove-member', args: ['NAME', 'USERNAME'], help: 'take a user out of a local group', run: groupRemoveMember },
  { words: 'group delete', args: ['NAME'], flags: { yes: true }, required: ['yes'], help: 'delete a local group; its members leave it', run: groupDelete },
  { words: 'group members', args: ['NAME'], help: "list a group's members", run: groupMembersCommand },
  { words: 'orgchart', args: ['USERNAME'], help: "the user's managers up the chain and direct reports", run: orgChartCommand },
  {
    words: 'adopt',
    args: ['NAME'],
    flags: { 'dry-run': true },
    help: 'move local accounts the last run of NAME reported as\nconflicts into that directory (--dry-run: only list them)',
    run: adoptCommand,
  },
  {
    words: 'audit',
    flags: {
      run: 'RUN_ID',
      action: 'ACTION',
      user: 'KEY',
      connection: 'NAME',
      since: INSTANT_FLAG,
      until: INSTANT_FLAG,
      limit: { value: 'N', schema: z.coerce.number().int().min(1).max(MAX_AUDIT_LIMIT), means: `a whole number from 1 to ${MAX_AUDIT_LIMIT}` },
      'page-token': 'T',
      json: true,
    },
    help:
      `audit records, newest first: the first N that match\n(N from 1 to ${MAX_AUDIT_LIMIT}, default ${DEFAULT_AUDIT_LIMIT}), from --since to --until\n` +
      '(both included: a date, or a date and time with Z or\nan offset); --page-token goes on where a page ended',
    run: auditCommand,
  },
];

export const USAGE = `usersync — User Directory Sync admin CLI

${usageOf(COMMANDS)}
  usersync COMMAND --help                  one command's usage

Options of every command:
  --url URL                                act on a deployed app through its HTTP API (or
                                           USERSYNC_URL: azd env get-value USERSYNC_URL),
                                           signed in as your \`az login\`; without it, on storage
  --scope SCOPE                            the API's token scope (or USERSYNC_API_SCOPE); the
                                           app's function key, if it needs one, comes from
                                           USERSYNC_FUNCTION_KEY

${EXIT_CODES_HELP}

Settings come from the environment or local.settings.json (see local.settings.sample.json).`;

/** Runs one CLI command against a composed app; returns the exit code (see EXIT). */
export async function runCli(argv: string[], context: CliContext): Promise<number> {
  return runCliWith(argv, context.io, async () => context);
}

/**
 * Runs one CLI command: usage and `--help` are answered before `connect` is called, so they need no
 * settings or storage. `connect` is given the global options (`--url`: which app). Every line printed is
 * escaped (stored values may hold control characters), and every error ends as one line saying what to
 * do — never a stack trace.
 */
export async function runCliWith(argv: string[], rawIo: CliIo, connect: (options: GlobalOptions) => Promise<Omit<CliContext, 'io'>>): Promise<number> {
  const io = escapingIo(rawIo);
  try {
    const { options, rest } = takeGlobalOptions(argv, USAGE);
    const resolved = resolveCommand(COMMANDS, rest, USAGE);
    if ('help' in resolved) {
      printLines(io.out, resolved.help);
      return EXIT.succeeded;
    }
    const context = { ...(await connect(options)), io };
    return await resolved.spec.run(resolved.input, context);
  } catch (error) {
    // The client says what an admin can fix (storage not reachable…) as an AppError; anything else is a bug.
    if (isAppError(error)) {
      io.err(`error [${error.code}]: ${error.message}`);
      for (const problem of fieldProblems(error)) io.err(`  - ${problem.field}: ${problem.message}`);
      if (typeof error.details?.usage === 'string') printLines(io.err, error.details.usage);
    } else {
      io.err(`error [internal-error]: ${describeError(error).message} — this is unexpected; ${keepDetails(error)}`);
    }
    return errorExitCode(error);
  }
}

/** The invalid fields of a profile or account, one line each; other errors' details say nothing more. */
function fieldProblems(error: AppError): { field: string; message: string }[] {
  const problems = error.details?.problems;
  if (!Array.isArray(problems)) return [];
  return problems.filter((problem): problem is { field: string; message: string } => typeof problem === 'object' && problem !== null && 'field' in problem);
}

/** The stack of an unexpected error, kept for a bug report rather than shown (in a folder of its own). */
function keepDetails(error: unknown): string {
  try {
    const file = join(mkdtempSync(join(tmpdir(), 'usersync-error-')), 'error.log');
    writeFileSync(file, `${new Date().toISOString()}\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return `the details are in ${file}; please include them if you report it.`;
  } catch {
    return 'please report it with the command you ran.';
  }
}

async function connectionPut({ args: [file = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  let profile: unknown;
  try {
    profile = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new AppError('profile-invalid', `${file} is not readable JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  // The profile's own name is the route's (an HTTP client puts it in the path); a profile without one is refused whole.
  const name = typeof profile === 'object' && profile !== null && 'name' in profile && typeof profile.name === 'string' ? profile.name : undefined;
  const saved = await client.call('connections.put', { ...(name !== undefined ? { name } : {}), profile });
  io.out(`${saved.created ? 'Created' : 'Updated'} connection "${saved.name}" (${saved.type}, directory key ${saved.directoryKey}).`);
  return EXIT.succeeded;
}

async function connectionList(_input: CommandInput, { client, io }: CliContext): Promise<number> {
  const connections = await client.call('connections.list', {});
  if (!connections.length) io.out('No connection profiles yet: usersync connection put FILE.json');
  printTable(
    io,
    ['NAME', 'TYPE', 'ENABLED', 'SCHEDULE', 'LAST RUN', 'STATUS', 'ACTIVE RUN', 'NEXT RUN'],
    connections.map(({ profile, state, nextRunAt }) => [
      profile.name,
      profile.type,
      profile.enabled ? 'yes' : 'no',
      'schedule' in profile ? describeSchedule(profile.schedule) : 'pushed (SCIM)',
      state.lastRunId ?? '-',
      state.lastRunStatus ?? '-',
      state.activeRunId ?? '-',
      nextRunAt ?? '-',
    ]),
  );
  return EXIT.succeeded;
}

async function connectionTest({ args: [name = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const result = await client.call('connections.test', { name });
  io.out(result.ok ? `OK: ${result.detail}` : `FAILED [${result.code}]: ${result.detail}`);
  for (const warning of result.warnings) io.out(`warning: ${warning}`);
  return result.ok ? EXIT.succeeded : EXIT.failed;
}

async function connectionGroups({ args: [name = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const groups = await client.call('connections.availableGroups', { name });
  printTable(io, ['ID', 'NAME', 'KIND'], groups.map((group) => [group.id, group.name, group.kind]));
  io.out(`${groups.length} group(s).`);
  return EXIT.succeeded;
}

async function connectionDelete({ args: [name = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const { disabled } = await client.call('connections.delete', { name });
  io.out(`Deleted connection "${name}": ${disabled} user(s) disabled, none deleted (their usernames and history stay).`);
  return EXIT.succeeded;
}

async function csvUpload({ args: [name = '', file = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const uploaded = await client.call('connections.uploadCsv', { name, file: createReadStream(file) });
  io.out(`Uploaded ${file} (${uploaded.bytes} bytes) as "${uploaded.blobName}" for "${uploaded.connection}".`);
  return EXIT.succeeded;
}

async function resetCommand({ args: [name = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const { connection } = await client.call('connections.reset', { name });
  io.out(`Reset "${connection}": the scheduler starts a run on its next tick.`);
  return EXIT.succeeded;
}

async function statusCommand({ args: [name] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const runs = await client.call('runs.list', { ...(name ? { connection: name } : {}), limit: name ? 10 : 20 });
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
  // Who a held run waits to disable: an admin decides from this whether to confirm it.
  for (const run of runs) {
    const [held, ...next] = heldLines(run);
    if (!held) continue;
    io.out(`Run ${run.runId} of "${run.connection}" ${held}`);
    for (const line of next) io.out(`  ${line}`);
  }
  return EXIT.succeeded;
}

async function auditCommand({ flags }: CommandInput, { client, io }: CliContext): Promise<number> {
  const limit = typeof flags.limit === 'number' ? flags.limit : DEFAULT_AUDIT_LIMIT;
  const text = (name: string) => (typeof flags[name] === 'string' ? { [name]: flags[name] } : {});
  const filter = { ...text('run'), ...text('action'), ...text('user'), ...text('connection'), ...text('since'), ...text('until') };
  const records: AuditRecordView[] = [];
  let continuationToken = typeof flags['page-token'] === 'string' ? flags['page-token'] : undefined;
  do {
    // Never more than is still wanted: the token after the last page then points at the first record not printed.
    const page = await client.call('audit.query', { ...filter, limit: Math.min(AUDIT_PAGE_SIZE, limit - records.length), ...(continuationToken ? { continuationToken } : {}) });
    records.push(...page.records);
    continuationToken = page.continuationToken;
  } while (continuationToken && records.length < limit);
  for (const record of records) io.out(flags.json ? JSON.stringify(record) : auditLine(record));
  const more = continuationToken ? `more: the same command with --page-token ${continuationToken}` : '';
  if (!flags.json) io.out(`${records.length} record(s), newest first${more ? `; ${more}` : ''}.`);
  // JSON lines stay records only; what comes next goes where a script's log does.
  else if (more) io.err(more);
  return EXIT.succeeded;
}

type AuditRecordView = OutputOf<'audit.query'>['records'][number];

/** One record: when, which run, what to whom and who did it, then what changed (old → new) and why. */
function auditLine(record: AuditRecordView): string {
  const what = [record.username ?? record.subject, record.ref ? `(${record.ref})` : ''].filter(Boolean).join(' ');
  const changes = record.changes?.length
    ? record.changes.map(({ field, from, to, withheld }) => (withheld ? `${field}: changed (value withheld)` : `${field}: ${shownValue(from)} → ${shownValue(to)}`)).join('; ')
    : record.changedFields?.length
      ? `fields: ${record.changedFields.join(', ')}`
      : '';
  const confirmed = record.confirmedAt ? `confirmed at ${record.confirmedAt}` : '';
  const why = [changes, record.reason ?? '', record.detail ?? '', confirmed].filter(Boolean).join(' — ');
  return `${record.at}  ${record.runId}  ${record.action.padEnd(13)} ${what}  by ${record.actor}${why ? `  ${why}` : ''}`;
}

function shownValue(value: string | undefined): string {
  return value === undefined ? '(none)' : JSON.stringify(value);
}

function describeSchedule(schedule: Extract<OutputOf<'connections.get'>['profile'], { schedule: unknown }>['schedule']): string {
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
