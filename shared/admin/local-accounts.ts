import { z } from 'zod';
import { actorName, type AuditRecord } from '../audit/audit-log.js';
import { AppError } from '../errors/app-error.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { LOCAL_DIRECTORY, type StoredUser } from '../sync/model.js';
import { MAX_FIELD_LENGTH } from '../sync/rules/decide.js';
import { hashPassword } from '../sync/rules/passwords.js';
import { isTerminal } from '../sync/run-model.js';
import { controlCharacterIn, USERNAME_RULE, usernameProblem } from '../sync/rules/values.js';
import { adminOperation } from './audit.js';
import { existingConnection } from './connections.js';
import { flag, segment } from './fields.js';
import { ADMIN, defineOperation } from './operation.js';
import { visibleUser } from './users.js';

/**
 * Local accounts: created by an admin, never changed by sync, holding their username like any other
 * user. Adoption moves local accounts into a directory when the directory lists the same username.
 */

/** The same rules as a synced user's (decide.ts): one username rule for everyone, no control characters, names a row can hold. */
const name = (required: string) =>
  z
    .string()
    .trim()
    .min(1, required)
    .max(MAX_FIELD_LENGTH, `at most ${MAX_FIELD_LENGTH} characters`)
    .refine((value) => !controlCharacterIn(value), 'control characters are not allowed');

const accountSchema = z.object({
  username: z
    .string()
    .trim()
    .min(1, 'a username is required')
    .superRefine((value, context) => {
      const problem = value && usernameProblem(value);
      if (problem) context.addIssue({ code: 'custom', message: `it ${problem}. ${USERNAME_RULE}` });
    }),
  email: z.email('a valid email address is required').max(MAX_FIELD_LENGTH, `at most ${MAX_FIELD_LENGTH} characters`),
  firstName: name('a first name is required'),
  lastName: name('a last name is required'),
  password: z.string().min(8, 'at least 8 characters').optional(),
});
export type LocalAccountInput = z.input<typeof accountSchema>;

/** `actor`: the admin who creates it, named by its audit record. */
export async function addLocalAccount(deps: SyncDependencies, input: LocalAccountInput, actor: string): Promise<StoredUser> {
  const parsed = accountSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message }));
    throw new AppError('account-invalid', `The local account is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { details: { problems } });
  }
  const account = parsed.data;
  const key = account.username.toLowerCase();
  if (await deps.users.get(LOCAL_DIRECTORY, key)) {
    throw new AppError('username-taken', `The username "${account.username}" already belongs to a local account.`);
  }
  const claim = await deps.usernames.claim(account.username, { directoryKey: LOCAL_DIRECTORY, key, connection: LOCAL_DIRECTORY });
  if (!claim.won) {
    const holder = claim.owner.directoryKey === LOCAL_DIRECTORY ? 'a local account' : `a user of the directory "${claim.owner.connection}"`;
    throw new AppError('username-taken', `The username "${account.username}" already belongs to ${holder}.`);
  }
  const op = adminOperation(deps.clock(), actor);
  const now = op.at;
  // Local accounts count against the licence limit like directory users.
  const licensed = (await deps.licences.take(`local:${key}:${now}`, 1)) === 1;
  const user: StoredUser = {
    directoryKey: LOCAL_DIRECTORY,
    key,
    connection: LOCAL_DIRECTORY,
    username: account.username,
    email: account.email,
    firstName: account.firstName,
    lastName: account.lastName,
    status: licensed ? 'active' : 'blocked',
    attributes: {},
    directoryControlled: [],
    sourceHash: '',
    sourceRef: 'local',
    createdAt: now,
    updatedAt: now,
  };
  if (account.password) user.passwordHash = await hashPassword(account.password);
  await deps.users.write([user]);
  await deps.audit.write([
    { ...op, connection: LOCAL_DIRECTORY, action: 'local-account-created', subject: key, username: user.username, detail: `Local account "${user.username}" created by ${actorName(actor)}${licensed ? '' : ', blocked: no licence is free'}.`, at: now },
  ]);
  return user;
}

export interface Adoption {
  username: string;
  /** The user's key in the directory (from the conflict the last run reported). */
  sourceKey: string;
}

export interface AdoptionPlan {
  connection: string;
  /** The run whose conflicts the plan comes from. */
  fromRunId?: string;
  adoptions: Adoption[];
  /** Conflicts that cannot be adopted, and why. */
  notes: string[];
}

/**
 * Switches local accounts whose username a directory lists to that directory (the product we replace
 * needed a support ticket for this). The candidates are the `username-owned-by-local-account`
 * conflicts of the profile's last completed run; the next sync then updates them from the directory.
 */
export async function adopt(deps: SyncDependencies, connectionName: string, options: { dryRun: boolean }, actor: string): Promise<AdoptionPlan> {
  const connection = await existingConnection(deps, connectionName);
  const name = connection.profile.name;
  const lastRun = (await deps.runs.list({ connection: name, limit: 50 })).find((run) => !run.dryRun && isTerminal(run.state));
  const plan: AdoptionPlan = { connection: name, adoptions: [], notes: [] };
  if (!lastRun) {
    plan.notes.push(`"${name}" has no completed run yet: sync it first; its conflicts with local accounts are what adoption takes over.`);
    return plan;
  }
  plan.fromRunId = lastRun.runId;
  for (const record of await allConflicts(deps, lastRun.runId)) {
    if (record.reason !== 'username-owned-by-local-account' || !record.username) continue;
    const holder = await deps.usernames.find(record.username);
    const local = await deps.users.get(LOCAL_DIRECTORY, record.username.toLowerCase());
    if (!local || holder?.directoryKey !== LOCAL_DIRECTORY) {
      plan.notes.push(`"${record.username}" is no longer a local account; nothing to adopt.`);
      continue;
    }
    plan.adoptions.push({ username: local.username, sourceKey: record.subject });
  }
  if (options.dryRun) return plan;

  const op = adminOperation(deps.clock(), actor);
  const now = op.at;
  for (const adoption of plan.adoptions) {
    const localKey = adoption.username.toLowerCase();
    const local = await deps.users.get(LOCAL_DIRECTORY, localKey);
    if (!local) continue;
    // Keep the account's history (created, password, roles, local groups); the next sync fills in the directory's fields.
    const moved: StoredUser = { ...local, directoryKey: connection.directoryKey, key: adoption.sourceKey, connection: name, sourceHash: '', sourceRef: 'adopted', updatedAt: now };
    await deps.users.write([moved]);
    const owner = { directoryKey: connection.directoryKey, key: adoption.sourceKey, connection: name };
    await deps.usernames.transfer(local.username, { directoryKey: LOCAL_DIRECTORY, key: localKey, connection: LOCAL_DIRECTORY }, owner);
    await deps.users.delete(LOCAL_DIRECTORY, localKey);
    await deps.audit.write([
      {
        ...op,
        connection: name,
        action: 'adopted',
        subject: adoption.sourceKey,
        username: local.username,
        detail: `Local account "${local.username}" now belongs to the directory "${name}"; its next sync updates it from the directory.`,
        at: now,
      },
    ]);
  }
  return plan;
}

async function allConflicts(deps: SyncDependencies, runId: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await deps.audit.query({ runId, action: 'conflict', limit: 1000, ...(continuationToken ? { continuationToken } : {}) });
    records.push(...page.records);
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return records;
}

const textField = z.string({ error: 'must be text' });

export const localAccountOperations = {
  /** `passwordSetting` names the app setting that holds the initial password: a password never travels in a request. */
  'localAccounts.add': defineOperation({
    role: ADMIN,
    input: z.strictObject({ username: textField, email: textField, firstName: textField, lastName: textField, passwordSetting: textField.optional() }),
    http: { method: 'POST', path: 'local-accounts', body: 'fields', status: () => 201 },
    run: async ({ deps, caller }, { passwordSetting, ...account }) => {
      const password = passwordSetting ? deps.secrets.resolve(passwordSetting) : undefined;
      return visibleUser(await addLocalAccount(deps, { ...account, ...(password ? { password } : {}) }, caller.actor));
    },
  }),

  /** Lists (`dryRun`) or moves the local accounts the profile's last run reported as conflicts. */
  'connections.adopt': defineOperation({
    role: ADMIN,
    input: z.strictObject({ name: segment, dryRun: flag.optional() }),
    http: { method: 'POST', path: 'connections/:name/adopt', query: ['dryRun'] },
    run: ({ deps, caller }, { name, dryRun = false }) => adopt(deps, name, { dryRun }, caller.actor),
  }),
};
