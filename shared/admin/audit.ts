import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditAction, AuditRecord } from '../audit/audit-log.js';
import { AppError } from '../errors/app-error.js';
import { newRunId } from '../sync/run-model.js';
import { pageLimit, since, text, until } from './fields.js';
import { defineOperation, READER } from './operation.js';

/**
 * The audit trail, newest first: a page of records, by run, user (source key), action or connection, and
 * within a window of time (`since`, `until`: both included).
 */
export const auditOperations = {
  'audit.query': defineOperation({
    role: READER,
    input: z.strictObject({
      run: text.optional(),
      user: text.optional(),
      action: text.optional(),
      connection: text.optional(),
      since: since.optional(),
      until: until.optional(),
      limit: pageLimit.default(100),
      continuationToken: text.optional(),
    }),
    http: { method: 'GET', path: 'audit', query: ['run', 'user', 'action', 'connection', 'since', 'until', 'limit', 'continuationToken'] },
    run: ({ deps }, query) => {
      if (query.since && query.until && query.since > query.until) {
        throw new AppError('query-invalid', `since (${query.since}) is after until (${query.until}): no record can be in that window.`, {
          details: { problems: [{ field: 'since', message: 'must not be after until' }] },
        });
      }
      return deps.audit.query({
        limit: query.limit,
        ...(query.run ? { runId: query.run } : {}),
        ...(query.user ? { subject: query.user.toLowerCase() } : {}),
        // An action no record has finds none: the list of actions may grow, the query need not know it.
        ...(query.action ? { action: query.action as AuditAction } : {}),
        ...(query.connection ? { connection: query.connection } : {}),
        ...(query.since ? { since: query.since } : {}),
        ...(query.until ? { until: query.until } : {}),
        ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}),
      });
    },
  }),
};

/**
 * The first fields of an admin operation's audit records: an id of the run-id form (so `usersync audit
 * --run ID` finds them) made from the time they carry, and the caller who acted.
 */
export function adminOperation(now: Date, actor: string): Pick<AuditRecord, 'runId' | 'subject' | 'actor' | 'at'> {
  const runId = newRunId(now, randomBytes(3).toString('hex'));
  return { runId, subject: runId, actor, at: now.toISOString() };
}
