import type { z } from 'zod';
import { auditOperations } from './audit.js';
import { connectionOperations } from './connections.js';
import { groupOperations } from './groups.js';
import { licenceOperations } from './licences.js';
import { localAccountLifecycleOperations } from './local-account-lifecycle.js';
import { localAccountOperations } from './local-accounts.js';
import type { Operation } from './operation.js';
import { runOperations } from './runs.js';
import { sessionOperations } from './session.js';
import { userExportOperations } from './user-export.js';
import { userOperations } from './users.js';

/**
 * Every admin operation, by name: the one table the HTTP API routes from and every client calls into.
 * To add one, declare it in its family's file (see ARCHITECTURE.md, "Admin core").
 */
export const OPERATIONS = {
  ...connectionOperations,
  ...runOperations,
  ...auditOperations,
  ...userOperations,
  ...userExportOperations,
  ...groupOperations,
  ...localAccountOperations,
  ...localAccountLifecycleOperations,
  ...licenceOperations,
  ...sessionOperations,
} as const;

export type Operations = typeof OPERATIONS;
export type OperationName = keyof Operations;

/** What a caller passes (optional fields may be left out, defaults apply). */
export type InputOf<K extends OperationName> = Operations[K] extends Operation<infer S, unknown> ? z.input<S> : never;

/** What the operation answers: plain JSON, the HTTP API's body. */
export type OutputOf<K extends OperationName> = Operations[K] extends Operation<z.ZodObject, infer O> ? O : never;
