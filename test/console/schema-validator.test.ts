import type { RJSFSchema } from '@rjsf/utils';
import { describe, expect, it } from 'vitest';
import { schemaValidator } from '../../console/src/components/schema-validator.js';
import { profileJsonSchemas } from '../../shared/connections/profile.js';

/**
 * The console forms' validator (@cfworker/json-schema behind @rjsf/core's interface: no eval, so it runs under
 * the console's Content-Security-Policy) on the schemas GET /api/connection-schema answers.
 */
describe('the console forms’ schema validator', () => {
  const csv = profileJsonSchemas().csv as RJSFSchema;
  const profile = { name: 'HR export', type: 'csv', source: { kind: 'blob', blobName: 'hr/people.csv' } };

  it('tells which option of a choice some data is (what @rjsf/core asks it)', () => {
    const [blob, https] = (csv.properties?.source as RJSFSchema).oneOf as RJSFSchema[];
    expect(schemaValidator.isValid(blob!, profile.source, csv)).toBe(true);
    expect(schemaValidator.isValid(https!, profile.source, csv)).toBe(false);
    expect(schemaValidator.isValid(csv, profile, csv)).toBe(true);
    expect(schemaValidator.isValid(csv, { ...profile, colummMap: {} }, csv)).toBe(false);
  });

  it('places each error at its field, leaving out the errors that only say a part below failed', () => {
    const { errors, errorSchema } = schemaValidator.validateFormData({ ...profile, defaultPasswordSecret: 'not a setting', disableGuard: { maxPercent: 120 } }, csv);
    expect(errors.map((error) => [error.name, error.property])).toEqual([
      ['maximum', '.disableGuard.maxPercent'],
      ['pattern', '.defaultPasswordSecret'],
    ]);
    expect(errorSchema).toMatchObject({ disableGuard: { maxPercent: { __errors: [expect.any(String)] } }, defaultPasswordSecret: { __errors: [expect.any(String)] } });
  });
});
