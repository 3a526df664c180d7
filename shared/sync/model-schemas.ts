import { z } from 'zod';

/**
 * The words of model.ts as zod schemas, to check what a run reads back from its files (staged pages,
 * shard plans) before it acts on it. A type test (test/sync/model-schemas.test.ts) keeps each equal to
 * its type: a field or reason added to model.ts fails the typecheck until it is added here too.
 */

const skipReasonSchema = z.enum([
  'missing-username',
  'missing-first-name',
  'missing-last-name',
  'missing-email',
  'invalid-email',
  'missing-match-value',
  'missing-password',
  'duplicate-match-value',
  'inactive-in-source',
  'column-count',
  'malformed-row',
  'value-too-long',
  'control-characters',
  'username-invalid',
]);

const textRecord = z.record(z.string(), z.string());

const sourceUserSchema = z.object({
  username: z.string().optional(),
  email: z.string().optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
  active: z.boolean(),
  attributes: textRecord,
  manager: z.string().optional(),
  groups: z.array(z.string()).optional(),
  partial: z.boolean().optional(),
  password: z.string().optional(),
});

export const sourceEntrySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user'), key: z.string(), ref: z.string(), user: sourceUserSchema }),
  z.object({ kind: z.literal('invalid'), key: z.string().optional(), ref: z.string(), reason: skipReasonSchema, detail: z.string() }),
  z.object({ kind: z.literal('membership'), key: z.string(), ref: z.string(), group: z.string() }),
  z.object({ kind: z.literal('manager'), key: z.string(), ref: z.string(), manager: z.string() }),
  z.object({ kind: z.literal('absent'), key: z.string(), ref: z.string(), reason: z.enum(['removed-from-directory', 'left-scope']) }),
]);

/**
 * Loose: a user row may hold columns this version does not know (written by a later one, or by the
 * intranet), and a disable that carries the row over must write them back as they were.
 */
export const storedUserSchema = z.looseObject({
  directoryKey: z.string(),
  key: z.string(),
  connection: z.string(),
  username: z.string(),
  email: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  status: z.enum(['active', 'disabled', 'blocked']),
  attributes: textRecord,
  manager: z.string().optional(),
  directoryControlled: z.array(z.string()),
  sourceHash: z.string(),
  passwordHash: z.string().optional(),
  mustChangePassword: z.boolean().optional(),
  sourceRef: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  disabledReason: z.string().optional(),
  managerKey: z.string().optional(),
  groups: z.array(z.string()).optional(),
  localGroups: z.array(z.string()).optional(),
  roles: z.array(z.string()).optional(),
  externalId: z.string().optional(),
});

export const decisionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('unchanged'), key: z.string() }),
  z.object({
    action: z.enum(['create', 'update', 're-enable', 'disable', 'activate']),
    key: z.string(),
    ref: z.string(),
    user: storedUserSchema,
    changedFields: z.array(z.string()),
    changes: z.array(z.object({ field: z.string(), from: z.string().optional(), to: z.string().optional(), withheld: z.literal(true).optional() })).optional(),
    reason: z.string().optional(),
    previousUsername: z.string().optional(),
    seat: z.union([z.literal(1), z.literal(-1)]).optional(),
  }),
  z.object({ action: z.literal('skip'), key: z.string().optional(), ref: z.string(), reason: skipReasonSchema, detail: z.string() }),
  z.object({
    action: z.literal('conflict'),
    key: z.string(),
    ref: z.string(),
    username: z.string(),
    holder: z.object({ connection: z.string(), local: z.boolean() }),
    reason: z.enum(['username-owned-by-local-account', 'username-owned-by-directory']),
    detail: z.string(),
  }),
]);
