import type { OperationName, OutputOf } from '../admin/operations.js';
import { LOCAL_DIRECTORY } from '../admin/views.js';
import { AppError } from '../errors/app-error.js';
import type { CliContext } from './cli.js';
import type { CommandInput } from './command-line.js';
import { EXIT } from './exit-codes.js';
import { printDocument, printTable } from './output.js';

// The commands that show or change users, groups and licences.

/** Users a page of the listing holds: the most the API gives at once. */
const USERS_PAGE = 1000;

export async function usersCommand({ flags }: CommandInput, { client, io }: CliContext): Promise<number> {
  const connection = typeof flags.connection === 'string' ? flags.connection : undefined;
  if (flags.csv) {
    if (flags.json) throw new AppError('usage-invalid', 'Choose one of --csv and --json.');
    const file = await client.call('users.export', connection !== undefined ? { connection } : {});
    await printDocument(io, file.content);
    return EXIT.succeeded;
  }
  const rows: string[][] = [];
  let continuationToken: string | undefined;
  do {
    const page = await client.call('users.query', { ...(connection !== undefined ? { connection } : {}), limit: USERS_PAGE, ...(continuationToken ? { continuationToken } : {}) });
    for (const user of page.users) {
      if (flags.json) io.out(JSON.stringify(user));
      else rows.push([user.username, user.email, user.firstName, user.lastName, user.status, user.connection, Object.entries(user.attributes).map(([k, v]) => `${k}=${v}`).join(' ')]);
    }
    continuationToken = page.continuationToken;
  } while (continuationToken);
  if (!flags.json) {
    rows.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
    printTable(io, ['USERNAME', 'EMAIL', 'FIRST NAME', 'LAST NAME', 'STATUS', 'CONNECTION', 'ATTRIBUTES'], rows);
    io.out(`${rows.length} user(s).`);
  }
  return EXIT.succeeded;
}

export async function userAdd({ args: [username = ''], flags }: CommandInput, { client, io }: CliContext): Promise<number> {
  const user = await client.call('localAccounts.add', {
    username,
    email: String(flags.email),
    firstName: String(flags['first-name']),
    lastName: String(flags['last-name']),
    ...(typeof flags['password-setting'] === 'string' ? { passwordSetting: flags['password-setting'] } : {}),
  });
  io.out(`Created local account "${user.username}" (${user.status}).`);
  return EXIT.succeeded;
}

export async function adoptCommand({ args: [name = ''], flags }: CommandInput, { client, io }: CliContext): Promise<number> {
  // What will happen is printed first, then (without --dry-run) done.
  const plan = await client.call('connections.adopt', { name, dryRun: true });
  for (const adoption of plan.adoptions) io.out(`will adopt local account "${adoption.username}" into "${plan.connection}"`);
  for (const note of plan.notes) io.out(`note: ${note}`);
  const source = plan.fromRunId ? ` (from the conflicts of run ${plan.fromRunId})` : '';
  if (flags['dry-run'] || !plan.adoptions.length) {
    io.out(`${plan.adoptions.length} local account(s) to adopt${source}; nothing changed.`);
    return EXIT.succeeded;
  }
  const done = await client.call('connections.adopt', { name, dryRun: false });
  io.out(`Adopted ${done.adoptions.length} local account(s) into "${done.connection}"${source}; the next sync updates them from the directory.`);
  return EXIT.succeeded;
}

export async function orgChartCommand({ args: [username = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const { user, managers, loops, directReports } = await client.call('users.orgChart', { username });
  const describe = (u: OutputOf<'users.get'>) => `${u.username} — ${u.firstName} ${u.lastName}${u.status === 'active' ? '' : ` (${u.status})`}`;
  io.out(`Org chart of ${user.username} (${user.connection})`);
  [...managers].reverse().forEach((manager, depth) => io.out(`${'  '.repeat(depth)}${describe(manager)}`));
  if (loops) io.out('  (the chain loops back here: a management cycle in the directory)');
  io.out(`${'  '.repeat(managers.length)}${describe(user)}   ← this user`);
  if (user.manager && !user.managerKey) io.out(`  manager "${user.manager}" is not a user of this directory`);
  for (const report of directReports) io.out(`${'  '.repeat(managers.length + 1)}${describe(report)}`);
  io.out(`${directReports.length} direct report(s).`);
  return EXIT.succeeded;
}

export async function licencesCommand({ client, io }: CliContext, operation: Extract<OperationName, 'licences.show' | 'licences.recount'>): Promise<number> {
  const { used, limit, byConnection, blocked } = await client.call(operation, {});
  io.out(`Licences in use: ${used} of ${limit ?? 'unlimited'}.`);
  printTable(io, ['CONNECTION', 'ACTIVE', 'BLOCKED'], byConnection.map((of) => [of.connection, String(of.active), String(of.blocked)]));
  if (!blocked.length) return EXIT.succeeded;
  io.out(`Waiting for a licence, in the order they get one (oldest first): ${blocked.length}`);
  for (const user of blocked) io.out(`  ${user.username} (${user.connection}), since ${user.since}`);
  return EXIT.succeeded;
}

export async function groupsCommand(_input: CommandInput, { client, io }: CliContext): Promise<number> {
  const groups = await client.call('groups.list', {});
  if (!groups.length) io.out('No groups yet.');
  printTable(io, ['GROUP', 'ORIGIN', 'CREATED'], groups.map((g) => [g.name, g.origin === LOCAL_DIRECTORY ? 'local' : `directory "${g.connection}"`, g.createdAt]));
  return EXIT.succeeded;
}

export async function groupAdd({ args: [name = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const group = await client.call('groups.add', { name });
  io.out(`Created local group "${group.name}".`);
  return EXIT.succeeded;
}

export async function groupAddMember({ args: [name = '', username = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const user = await client.call('groups.addMember', { name, username });
  io.out(`Added "${user.username}" to the local group "${name}".`);
  return EXIT.succeeded;
}

export async function groupRemoveMember({ args: [name = '', username = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const user = await client.call('groups.removeMember', { name, username });
  io.out(`"${user.username}" is not in the local group "${name}" (any more).`);
  return EXIT.succeeded;
}

export async function groupDelete({ args: [name = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const deleted = await client.call('groups.delete', { name });
  io.out(`Deleted local group "${deleted.name}"; ${deleted.membersRemoved} member(s) left it.`);
  return EXIT.succeeded;
}

export async function groupMembersCommand({ args: [name = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const members = await client.call('groups.members', { name });
  for (const member of members) io.out(`${member.username}  (${member.connection})`);
  io.out(`${members.length} member(s).`);
  return EXIT.succeeded;
}
