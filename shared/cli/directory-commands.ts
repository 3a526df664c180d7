import type { CliContext } from './cli.js';
import type { CommandInput } from './command-line.js';
import { EXIT } from './exit-codes.js';
import { printTable } from './output.js';
import { addLocalAccount, adopt } from '../accounts/local-accounts.js';
import { addLocalGroup, addLocalGroupMember, groupMembers } from '../accounts/local-groups.js';
import { orgChartOf, visibleUser } from '../accounts/org-chart-view.js';
import { AppError } from '../errors/app-error.js';
import { LOCAL_DIRECTORY, type StoredUser } from '../sync/model.js';

// The commands that show or change users, groups and licences.

export async function usersCommand({ flags }: CommandInput, { app, io }: CliContext): Promise<number> {
  let directoryKey: string | undefined;
  if (typeof flags.connection === 'string') {
    const connection = await app.deps.connections.get(flags.connection);
    if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${flags.connection}".`);
    directoryKey = connection.directoryKey;
  }
  const rows: string[][] = [];
  for await (const user of app.deps.users.list(directoryKey)) {
    if (flags.json) io.out(JSON.stringify(visibleUser(user)));
    else rows.push([user.username, user.email, user.firstName, user.lastName, user.status, user.connection, Object.entries(user.attributes).map(([k, v]) => `${k}=${v}`).join(' ')]);
  }
  if (!flags.json) {
    rows.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
    printTable(io, ['USERNAME', 'EMAIL', 'FIRST NAME', 'LAST NAME', 'STATUS', 'CONNECTION', 'ATTRIBUTES'], rows);
    io.out(`${rows.length} user(s).`);
  }
  return EXIT.succeeded;
}

export async function userAdd({ args: [username = ''], flags }: CommandInput, { app, io }: CliContext): Promise<number> {
  const setting = typeof flags['password-setting'] === 'string' ? flags['password-setting'] : undefined;
  const password = setting ? app.deps.secrets.resolve(setting) : undefined;
  const user = await addLocalAccount(app.deps, {
    username,
    email: String(flags.email),
    firstName: String(flags['first-name']),
    lastName: String(flags['last-name']),
    ...(password ? { password } : {}),
  });
  io.out(`Created local account "${user.username}" (${user.status}).`);
  return EXIT.succeeded;
}

export async function adoptCommand({ args: [name = ''], flags }: CommandInput, { app, io }: CliContext): Promise<number> {
  // What will happen is printed first, then (without --dry-run) done.
  const plan = await adopt(app.deps, name, { dryRun: true });
  for (const adoption of plan.adoptions) io.out(`will adopt local account "${adoption.username}" into "${plan.connection}"`);
  for (const note of plan.notes) io.out(`note: ${note}`);
  const source = plan.fromRunId ? ` (from the conflicts of run ${plan.fromRunId})` : '';
  if (flags['dry-run'] || !plan.adoptions.length) {
    io.out(`${plan.adoptions.length} local account(s) to adopt${source}; nothing changed.`);
    return EXIT.succeeded;
  }
  const done = await adopt(app.deps, name, { dryRun: false });
  io.out(`Adopted ${done.adoptions.length} local account(s) into "${done.connection}"${source}; the next sync updates them from the directory.`);
  return EXIT.succeeded;
}

export async function orgChartCommand({ args: [username = ''] }: CommandInput, { app, io }: CliContext): Promise<number> {
  const { user, chain, loops, reports } = await orgChartOf(app.deps, username);
  const describe = (u: StoredUser) => `${u.username} — ${u.firstName} ${u.lastName}${u.status === 'active' ? '' : ` (${u.status})`}`;
  io.out(`Org chart of ${user.username} (${user.connection})`);
  [...chain].reverse().forEach((manager, depth) => io.out(`${'  '.repeat(depth)}${describe(manager)}`));
  if (loops) io.out('  (the chain loops back here: a management cycle in the directory)');
  io.out(`${'  '.repeat(chain.length)}${describe(user)}   ← this user`);
  if (user.manager && !user.managerKey) io.out(`  manager "${user.manager}" is not a user of this directory`);
  for (const report of reports) io.out(`${'  '.repeat(chain.length + 1)}${describe(report)}`);
  io.out(`${reports.length} direct report(s).`);
  return EXIT.succeeded;
}

export async function licencesCommand({ app, io }: CliContext, recount: boolean): Promise<number> {
  const { licences } = app.deps;
  if (recount) {
    // The ledger is kept exact by the sync; a recount repairs it after manual edits of the tables.
    let active = 0;
    for await (const user of app.deps.users.list()) if (user.status === 'active') active++;
    await licences.reset(active);
  }
  io.out(`Licences in use: ${await licences.used()} of ${licences.limit ?? 'unlimited'}.`);
  return EXIT.succeeded;
}

export async function groupsCommand(_input: CommandInput, { app, io }: CliContext): Promise<number> {
  const groups = await app.deps.groups.list();
  if (!groups.length) io.out('No groups yet.');
  printTable(io, ['GROUP', 'ORIGIN', 'CREATED'], groups.map((g) => [g.name, g.origin === LOCAL_DIRECTORY ? 'local' : `directory "${g.connection}"`, g.createdAt]));
  return EXIT.succeeded;
}

export async function groupAdd({ args: [name = ''] }: CommandInput, { app, io }: CliContext): Promise<number> {
  const group = await addLocalGroup(app.deps, name);
  io.out(`Created local group "${group.name}".`);
  return EXIT.succeeded;
}

export async function groupAddMember({ args: [name = '', username = ''] }: CommandInput, { app, io }: CliContext): Promise<number> {
  const user = await addLocalGroupMember(app.deps, name, username);
  io.out(`Added "${user.username}" to the local group "${name}".`);
  return EXIT.succeeded;
}

export async function groupMembersCommand({ args: [name = ''] }: CommandInput, { app, io }: CliContext): Promise<number> {
  const members = await groupMembers(app.deps, name);
  for (const member of members) io.out(`${member.username}  (${member.connection})`);
  io.out(`${members.length} member(s).`);
  return EXIT.succeeded;
}
