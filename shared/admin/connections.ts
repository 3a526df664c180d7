import { Readable } from 'node:stream';
import { z } from 'zod';
import { actorName } from '../audit/audit-log.js';
import { parseProfile, profileJsonSchemas, scheduleOf } from '../connections/profile.js';
import { AppError } from '../errors/app-error.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import type { StoredConnection } from '../sync/ports.js';
import { nextRunAt } from '../sync/rules/schedule.js';
import { availableGroups, testConnection } from './connection-checks.js';
import { deleteConnection } from './delete-connection.js';
import { segment } from './fields.js';
import { adminOperation } from './audit.js';
import { ADMIN, defineOperation, READER, type HttpBinding, type Role } from './operation.js';

/** Connection profiles: save, show, delete, test, reset, and the uploaded CSV file a "blob" profile reads. */

/**
 * A profile as the surfaces show it: profiles hold only the names of their secrets, never values.
 * `nextRunAt`: when the scheduler will start its next run (now if it is overdue, e.g. behind an active
 * run); absent when none will (schedule `off`, or the profile disabled).
 */
export function connectionView({ profile, directoryKey, createdAt, updatedAt, state, problems }: StoredConnection, now: Date) {
  const next = profile.enabled ? nextRunAt(scheduleOf(profile), state, now) : undefined;
  return { name: profile.name, type: profile.type, directoryKey, createdAt, updatedAt, state, ...(next ? { nextRunAt: next.toISOString() } : {}), profile, ...(problems ? { problems } : {}) };
}

export async function existingConnection(deps: SyncDependencies, name: string): Promise<StoredConnection> {
  const connection = await deps.connections.get(name);
  if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  return connection;
}

const named = z.strictObject({ name: segment });

/** Made once, on first ask: the profiles' schemas do not change while the app runs. */
let jsonSchemas: ReturnType<typeof profileJsonSchemas> | undefined;

/** An operation on the profile its route names, answered by one use case (told who asks, for its audit records). */
function onConnection<O>(role: Role, http: HttpBinding<{ name: string }, NoInfer<O>>, use: (deps: SyncDependencies, name: string, actor: string) => Promise<O>) {
  return defineOperation({ role, input: named, http, run: ({ deps, caller }, { name }) => use(deps, name, caller.actor) });
}

export const connectionOperations = {
  'connections.list': defineOperation({
    role: READER,
    input: z.strictObject({}),
    http: { method: 'GET', path: 'connections' },
    run: async ({ deps }) => (await deps.connections.list()).map((connection) => connectionView(connection, deps.clock())),
  }),

  'connections.get': onConnection(READER, { method: 'GET', path: 'connections/:name' }, async (deps, name) => connectionView(await existingConnection(deps, name), deps.clock())),

  /** The JSON Schema of each type of profile (`csv`, `entra`, `okta`): what `PUT connections/:name` takes, for forms. */
  'connections.schema': defineOperation({
    role: READER,
    input: z.strictObject({}),
    http: { method: 'GET', path: 'connection-schema' },
    run: async () => (jsonSchemas ??= profileJsonSchemas()),
  }),

  /** `name` (the route's) wins over the profile's own; the CLI sends the file's profile as it is. */
  'connections.put': defineOperation({
    role: ADMIN,
    input: z.strictObject({ name: segment.optional(), profile: z.unknown() }),
    http: { method: 'PUT', path: 'connections/:name', body: { json: 'profile' }, status: (saved: { created: boolean }) => (saved.created ? 201 : 200) },
    run: async ({ deps, caller }, { name, profile }) => {
      const named = name !== undefined && typeof profile === 'object' && profile !== null && !Array.isArray(profile) ? { ...profile, name } : profile;
      const now = deps.clock();
      const { connection, created } = await deps.connections.put(parseProfile(named), now.toISOString());
      await deps.audit.write([
        {
          ...adminOperation(now, caller.actor),
          connection: connection.profile.name,
          action: 'connection-saved',
          detail: `Connection profile "${connection.profile.name}" ${created ? 'created' : 'saved'} by ${actorName(caller.actor)}.`,
        },
      ]);
      return { ...connectionView(connection, now), created };
    },
  }),

  'connections.delete': onConnection(ADMIN, { method: 'DELETE', path: 'connections/:name' }, deleteConnection),

  /** "Reset": clears the wait, so the scheduler starts a run on its next tick. */
  'connections.reset': onConnection(ADMIN, { method: 'POST', path: 'connections/:name/reset', status: () => 202 }, async (deps, name) => {
    const now = deps.clock().toISOString();
    const updated = await deps.connections.updateState(name, (current) => ({ ...current.state, resetRequestedAt: now }));
    if (!updated) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
    return { connection: updated.profile.name, resetRequested: true };
  }),

  /** 200 either way: a directory that refuses is the answer to "test", not a failed request. Admin: it uses the profile's secrets. */
  'connections.test': onConnection(ADMIN, { method: 'POST', path: 'connections/:name/test' }, testConnection),

  /** Admin: it signs in to the directory with the profile's secrets. */
  'connections.availableGroups': onConnection(ADMIN, { method: 'GET', path: 'connections/:name/groups/available' }, availableGroups),

  /**
   * The file a "blob" CSV profile reads, streamed in (to USERSYNC_CSV_MAX_BYTES). It replaces the profile's
   * file only once it has arrived whole: one refused (too large, empty) or cut off leaves the old one.
   */
  'connections.uploadCsv': defineOperation({
    role: ADMIN,
    input: z.strictObject({ name: segment, file: z.instanceof(Readable, { error: 'must be the file' }) }),
    http: { method: 'PUT', path: 'connections/:name/csv', body: { stream: 'file', contentTypes: ['text/csv', 'application/octet-stream'] } },
    run: async ({ deps, csvFiles, config }, { name, file }) => {
      const { profile } = await existingConnection(deps, name);
      if (profile.type !== 'csv' || profile.source.kind !== 'blob') {
        throw new AppError('profile-invalid', `"${profile.name}" does not read an uploaded CSV file (its source is not "blob").`);
      }
      const checked = withinLimit(file, config.csvMaxBytes);
      try {
        const bytes = await csvFiles.putStream(profile.source.blobName, checked.stream);
        return { connection: profile.name, blobName: profile.source.blobName, bytes };
      } catch (error) {
        // The store reports the refusal its own way (or as the stream's error): ours says what to do.
        throw checked.refusal() ?? error;
      }
    },
  }),
};

/**
 * The file as it arrives, ended with an error past `maxBytes` or when it is empty — before its last block,
 * so a store that commits a file only at its end (a block blob) never commits it.
 */
function withinLimit(file: Readable, maxBytes: number): { stream: Readable; refusal: () => AppError | undefined } {
  let refusal: AppError | undefined;
  const kept = ' Nothing was stored: the profile still reads the file it had.';
  async function* checked() {
    let bytes = 0;
    for await (const chunk of file) {
      bytes += (chunk as Buffer).length;
      if (bytes > maxBytes) throw (refusal = new AppError('body-too-large', `The CSV file is larger than ${maxBytes} bytes (USERSYNC_CSV_MAX_BYTES).${kept}`));
      yield chunk as Buffer;
    }
    if (bytes === 0) throw (refusal = new AppError('body-invalid', `The CSV file is empty.${kept}`));
  }
  return { stream: Readable.from(checked(), { objectMode: false }), refusal: () => refusal };
}
