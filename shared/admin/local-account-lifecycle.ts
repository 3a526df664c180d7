import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { actorName, type AuditAction } from '../audit/audit-log.js';
import { AppError } from '../errors/app-error.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { LOCAL_DIRECTORY, type StoredUser } from '../sync/model.js';
import { hashPassword } from '../sync/rules/passwords.js';
import { segment } from './fields.js';
import { adminOperation } from './audit.js';
import { ADMIN, defineOperation, READER, type Caller } from './operation.js';
import { visibleUser } from './users.js';

/**
 * A local account after it was created: listed, shown, disabled and enabled (which free and take its
 * licence), deleted, given a one-time password. Only local accounts: a directory's users are its own.
 */

/** The local account of that username; a directory's user is refused, naming the directory that owns it. */
async function localAccount(deps: SyncDependencies, username: string): Promise<StoredUser> {
  const owner = await deps.usernames.find(username);
  if (owner && owner.directoryKey !== LOCAL_DIRECTORY) {
    throw new AppError('directory-owned', `"${username}" is a user of the directory "${owner.connection}", not a local account: change it there (the sync brings it over).`, {
      details: { connection: owner.connection },
    });
  }
  const account = owner ? await deps.users.get(LOCAL_DIRECTORY, owner.key) : undefined;
  if (!account) throw new AppError('user-not-found', `There is no local account "${username}".`);
  return account;
}

async function audit(deps: SyncDependencies, caller: Caller, account: StoredUser, action: AuditAction, detail: string, at: string): Promise<void> {
  await deps.audit.write([{ ...adminOperation(new Date(at), caller.actor), connection: LOCAL_DIRECTORY, action, subject: account.key, username: account.username, detail }]);
}

/**
 * Licence changes are keyed by the account's state before the change (its updatedAt): a request retried
 * after a crash, or two at once, take or free a seat once.
 */
const licenceOperation = (account: StoredUser, change: string) => `local:${account.key}:${change}:${account.updatedAt}`;

/** Disabled by an admin ("block sign-in"): an active account frees its licence; a disabled one stays as it is. */
async function disableAccount(deps: SyncDependencies, caller: Caller, username: string): Promise<StoredUser> {
  const account = await localAccount(deps, username);
  if (account.status === 'disabled') return account;
  if (account.status === 'active') await deps.licences.release(licenceOperation(account, 'disabled'), 1);
  const at = deps.clock().toISOString();
  const disabled: StoredUser = { ...account, status: 'disabled', disabledReason: 'disabled-by-admin', updatedAt: at };
  await deps.users.write([disabled]);
  await audit(deps, caller, account, 'local-account-disabled', `Local account "${account.username}" disabled by ${actorName(caller.actor)}${account.status === 'active' ? '; its licence is free' : ''}.`, at);
  return disabled;
}

/**
 * Enabled again: active if a licence is free, else blocked (as a new account would be); an active one
 * stays. A blocked account is tried again (a licence may have been freed since). Its row is written even
 * when it stays blocked: the new updatedAt gives the next try a licence operation of its own.
 */
async function enableAccount(deps: SyncDependencies, caller: Caller, username: string): Promise<StoredUser> {
  const account = await localAccount(deps, username);
  if (account.status === 'active') return account;
  const licensed = (await deps.licences.take(licenceOperation(account, 'enabled'), 1)) === 1;
  const at = deps.clock().toISOString();
  const { disabledReason: _reason, ...rest } = account;
  const enabled: StoredUser = { ...rest, status: licensed ? 'active' : 'blocked', updatedAt: at };
  await deps.users.write([enabled]);
  if (enabled.status !== account.status) {
    await audit(deps, caller, account, 'local-account-enabled', `Local account "${account.username}" enabled by ${actorName(caller.actor)}${licensed ? '' : ', blocked: no licence is free'}.`, at);
  }
  return enabled;
}

/** Deleted for good: its row, its username (free for anyone again), its licence; the audit trail keeps its history. */
async function deleteAccount(deps: SyncDependencies, caller: Caller, username: string): Promise<{ username: string; deleted: true }> {
  const account = await localAccount(deps, username);
  if (account.status === 'active') await deps.licences.release(licenceOperation(account, 'deleted'), 1);
  await deps.users.delete(LOCAL_DIRECTORY, account.key);
  await deps.usernames.release(account.username, { directoryKey: LOCAL_DIRECTORY, key: account.key, connection: LOCAL_DIRECTORY });
  await audit(deps, caller, account, 'local-account-deleted', `Local account "${account.username}" deleted by ${actorName(caller.actor)}; its username is free.`, deps.clock().toISOString());
  return { username: account.username, deleted: true };
}

/** Letters and digits that cannot be mistaken for one another (no 0/O, 1/l/I). */
const LOWER = 'abcdefghijkmnpqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';

/** 16 random characters (about 94 bits), with a lower-case letter, an upper-case letter and a digit for complexity rules. */
export function generatePassword(): string {
  const all = LOWER + UPPER + DIGITS;
  for (;;) {
    const password = Array.from({ length: 16 }, () => all[randomInt(all.length)]).join('');
    if ([LOWER, UPPER, DIGITS].every((set) => [...password].some((char) => set.includes(char)))) return password;
  }
}

const MIN_PASSWORD_LENGTH = 8;

/**
 * A one-time password, as Entra's "reset password" and Keycloak's temporary password: generated and
 * answered once (or read from the app setting an admin names: a password never travels in a request),
 * kept only as its scrypt hash, flagged to be changed at the next sign-in; never logged or audited.
 */
async function setOneTimePassword(deps: SyncDependencies, caller: Caller, username: string, passwordSetting: string | undefined) {
  const account = await localAccount(deps, username);
  const password = passwordSetting ? deps.secrets.resolve(passwordSetting) : generatePassword();
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('account-invalid', `The password in ${passwordSetting} is too short: at least ${MIN_PASSWORD_LENGTH} characters.`, {
      details: { problems: [{ field: 'passwordSetting', message: `at least ${MIN_PASSWORD_LENGTH} characters` }] },
    });
  }
  const at = deps.clock().toISOString();
  await deps.users.write([{ ...account, passwordHash: await hashPassword(password), mustChangePassword: true, updatedAt: at }]);
  const source = passwordSetting ? `from the app setting ${passwordSetting}` : 'generated';
  await audit(deps, caller, account, 'password-set', `A one-time password (${source}) was set for "${account.username}" by ${actorName(caller.actor)}; it must be changed at the next sign-in.`, at);
  return { username: account.username, mustChangePassword: true as const, ...(passwordSetting ? {} : { password }) };
}

const named = z.strictObject({ username: segment });

export const localAccountLifecycleOperations = {
  'localAccounts.list': defineOperation({
    role: READER,
    input: z.strictObject({}),
    http: { method: 'GET', path: 'local-accounts' },
    run: async ({ deps }) => {
      const accounts: ReturnType<typeof visibleUser>[] = [];
      for await (const account of deps.users.list(LOCAL_DIRECTORY)) accounts.push(visibleUser(account));
      return accounts.sort((a, b) => a.username.localeCompare(b.username));
    },
  }),

  'localAccounts.get': defineOperation({
    role: READER,
    input: named,
    http: { method: 'GET', path: 'local-accounts/:username' },
    run: async ({ deps }, { username }) => visibleUser(await localAccount(deps, username)),
  }),

  'localAccounts.disable': defineOperation({
    role: ADMIN,
    input: named,
    http: { method: 'POST', path: 'local-accounts/:username/disable' },
    run: async ({ deps, caller }, { username }) => visibleUser(await disableAccount(deps, caller, username)),
  }),

  'localAccounts.enable': defineOperation({
    role: ADMIN,
    input: named,
    http: { method: 'POST', path: 'local-accounts/:username/enable' },
    run: async ({ deps, caller }, { username }) => visibleUser(await enableAccount(deps, caller, username)),
  }),

  'localAccounts.delete': defineOperation({
    role: ADMIN,
    input: named,
    http: { method: 'DELETE', path: 'local-accounts/:username' },
    run: ({ deps, caller }, { username }) => deleteAccount(deps, caller, username),
  }),

  /** The answer holds a generated password, once: it is nowhere else. */
  'localAccounts.setPassword': defineOperation({
    role: ADMIN,
    input: z.strictObject({ username: segment, passwordSetting: z.string({ error: 'must be text' }).min(1, 'must not be empty').optional() }),
    http: { method: 'POST', path: 'local-accounts/:username/password', query: ['passwordSetting'] },
    run: ({ deps, caller }, { username, passwordSetting }) => setOneTimePassword(deps, caller, username, passwordSetting),
  }),
};
