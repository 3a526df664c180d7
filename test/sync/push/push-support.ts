import type { AuditRecord } from '../../../shared/audit/audit-log.js';
import type { ConnectionProfileInput } from '../../../shared/connections/profile.js';
import { AppError } from '../../../shared/errors/app-error.js';
import type { SourceUser } from '../../../shared/sync/model.js';
import type { PushedDirectory, PushedUserInput } from '../../../shared/sync/push/pushed-directory.js';
import { createTestApp, putProfile, type TestApp } from '../../support/test-app.js';

/** A test app with one `scim` connection and its pushed directory. */
export async function scimApp(
  env: Record<string, string> = {},
  profile: Partial<Extract<ConnectionProfileInput, { type: 'scim' }>> = {},
): Promise<{ t: TestApp; directory: PushedDirectory }> {
  const t = await createTestApp({ SCIM_TOKEN: 'scim-token-value', TEST_DEFAULT_PASSWORD: 'Push-Initial-Pa55', ...env });
  await putProfile(t, { name: 'Pushed', type: 'scim', tokenSecret: 'SCIM_TOKEN', ...profile });
  return { t, directory: await t.app.pushedDirectories('Pushed') };
}

export function person(username: string, extra: Partial<SourceUser> = {}, externalId?: string): PushedUserInput {
  const [first = 'First', last = 'Last'] = username.split('@')[0]!.split('.');
  return {
    ...(externalId ? { externalId } : {}),
    user: { username, email: username, firstName: first, lastName: last, active: true, attributes: {}, ...extra },
  };
}

/** Every audit record of the connection (newest first). */
export async function auditOfConnection(t: TestApp, connection = 'Pushed'): Promise<AuditRecord[]> {
  return (await t.app.deps.audit.query({ connection, limit: 1000 })).records;
}

export async function refusal(work: Promise<unknown>): Promise<AppError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}
