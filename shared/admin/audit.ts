import { z } from 'zod';
import type { AuditAction } from '../audit/audit-log.js';
import { pageLimit, text } from './fields.js';
import { defineOperation, READER } from './operation.js';

/** The audit trail: a page of records, by run, user (source key), action or connection. */
export const auditOperations = {
  'audit.query': defineOperation({
    role: READER,
    input: z.strictObject({
      run: text.optional(),
      user: text.optional(),
      action: text.optional(),
      connection: text.optional(),
      limit: pageLimit.default(100),
      continuationToken: text.optional(),
    }),
    http: { method: 'GET', path: 'audit', query: ['run', 'user', 'action', 'connection', 'limit', 'continuationToken'] },
    run: ({ deps }, query) =>
      deps.audit.query({
        limit: query.limit,
        ...(query.run ? { runId: query.run } : {}),
        ...(query.user ? { subject: query.user.toLowerCase() } : {}),
        // An action no record has finds none: the list of actions may grow, the query need not know it.
        ...(query.action ? { action: query.action as AuditAction } : {}),
        ...(query.connection ? { connection: query.connection } : {}),
        ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}),
      }),
  }),
};
