import { userInfo } from 'node:os';
import { LOCAL_LEASE_SECONDS, LocalAdminClient, type AdminClient } from '../admin/client.js';
import { ADMIN, type Caller } from '../admin/operation.js';
import type { ComposedApp } from '../app/compose.js';
import type { FunctionDefinition } from '../app/registry.js';
import { storageProblem } from '../store/storage-clients.js';
import { awaitRun } from './await-run.js';

export interface LocalClientOptions {
  /** Who acts: the admin at this machine's keyboard unless told. */
  caller?: Caller;
  /** How many queue messages are worked at once while a run is driven. */
  queueWorkers?: number;
}

/**
 * The admin core on this machine's storage, as the CLI uses it: operations run in-process, and a run is
 * driven to its end with the app's own queue handlers (as the Functions host would), so no host need run.
 */
export function localAdminClient(app: ComposedApp, definitions: FunctionDefinition[], options: LocalClientOptions = {}): AdminClient {
  const { caller = localAdmin(), queueWorkers } = options;
  return new LocalAdminClient(
    app,
    caller,
    (runId, { onProgress }) =>
      awaitRun(app, definitions, runId, { ...(queueWorkers ? { queueWorkers } : {}), messageLeaseSeconds: LOCAL_LEASE_SECONDS, ...(onProgress ? { onProgress } : {}) }),
    storageProblem,
  );
}

/** Whoever can reach the storage account's keys is its admin: `cli:<os user>`. */
export function localAdmin(): Caller {
  return { actor: `cli:${osUser()}`, roles: [ADMIN] };
}

/** Some containers have no user name to give. */
function osUser(): string {
  try {
    return userInfo().username || 'an admin';
  } catch {
    return 'an admin';
  }
}
