import type { OutputOf } from '../admin/operations.js';
import type { CliContext } from './cli.js';
import type { CommandInput } from './command-line.js';
import { EXIT } from './exit-codes.js';
import { printTable } from './output.js';

// The commands that look after local accounts once created (`user add` is with the directory commands).

export async function userList(_input: CommandInput, { client, io }: CliContext): Promise<number> {
  const accounts = await client.call('localAccounts.list', {});
  printTable(
    io,
    ['USERNAME', 'EMAIL', 'FIRST NAME', 'LAST NAME', 'STATUS', 'LOCAL GROUPS'],
    accounts.map((account) => [account.username, account.email, account.firstName, account.lastName, account.status, (account.localGroups ?? []).join(', ')]),
  );
  io.out(`${accounts.length} local account(s).`);
  return EXIT.succeeded;
}

export async function userShow({ args: [username = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const account = await client.call('localAccounts.get', { username });
  const lines: [string, string | undefined][] = [
    ['username', account.username],
    ['email', account.email],
    ['name', `${account.firstName} ${account.lastName}`],
    ['status', account.status + (account.disabledReason ? ` (${account.disabledReason})` : '')],
    ['password', account.mustChangePassword ? 'one-time: to be changed at the next sign-in' : undefined],
    ['local groups', account.localGroups?.join(', ')],
    ['created', account.createdAt],
    ['updated', account.updatedAt],
  ];
  for (const [name, value] of lines) if (value) io.out(`${`${name}:`.padEnd(14)}${value}`);
  return EXIT.succeeded;
}

/** What an account's status means for its licence, after a change. */
function describeStatus({ status }: OutputOf<'localAccounts.get'>): string {
  if (status === 'active') return 'active (it holds a licence)';
  if (status === 'blocked') return 'blocked: no licence is free (usersync licences)';
  return 'disabled (it holds no licence)';
}

export async function userDisable({ args: [username = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const account = await client.call('localAccounts.disable', { username });
  io.out(`Local account "${account.username}" is ${describeStatus(account)}.`);
  return EXIT.succeeded;
}

export async function userEnable({ args: [username = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const account = await client.call('localAccounts.enable', { username });
  io.out(`Local account "${account.username}" is ${describeStatus(account)}.`);
  return EXIT.succeeded;
}

export async function userDelete({ args: [username = ''] }: CommandInput, { client, io }: CliContext): Promise<number> {
  const { username: deleted } = await client.call('localAccounts.delete', { username });
  io.out(`Deleted local account "${deleted}": its username and licence are free; its history stays in the audit trail.`);
  return EXIT.succeeded;
}

export async function userSetPassword({ args: [username = ''], flags }: CommandInput, { client, io }: CliContext): Promise<number> {
  const setting = typeof flags['password-setting'] === 'string' ? flags['password-setting'] : undefined;
  const set = await client.call('localAccounts.setPassword', { username, ...(setting ? { passwordSetting: setting } : {}) });
  if (set.password) io.out(`One-time password for "${set.username}": ${set.password}`);
  else io.out(`Set a one-time password for "${set.username}" from ${setting}.`);
  io.out(`  it must be changed at the next sign-in${set.password ? '; it is not shown again: pass it on now' : ''}.`);
  return EXIT.succeeded;
}
