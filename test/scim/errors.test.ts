import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors/app-error.js';
import { scimErrorOf } from '../../shared/scim/errors.js';

/** The push core's refusals as a SCIM client reads them (RFC 7644 §3.12): the status and, for 400/409, the scimType. */
describe('SCIM error bodies of the push core refusals', () => {
  it.each([
    ['username-taken', 409, 'uniqueness'],
    ['user-exists', 409, 'uniqueness'],
    ['group-exists', 409, 'uniqueness'],
    ['user-invalid', 400, 'invalidValue'],
    ['member-invalid', 400, 'invalidValue'],
    ['mutability', 400, 'mutability'],
    ['user-not-found', 404, undefined],
    ['connection-disabled', 403, undefined],
    ['user-busy', 503, undefined],
    ['licences-busy', 503, undefined],
  ] as const)('%s → %i %s', (code, status, scimType) => {
    const answer = scimErrorOf(new AppError(code, 'A sentence.'));
    expect(answer.status).toBe(status);
    expect(answer.jsonBody).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), ...(scimType ? { scimType } : {}), detail: 'A sentence.' });
  });
});
