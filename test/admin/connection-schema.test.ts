import { readFile } from 'node:fs/promises';
import { Validator, type Schema } from '@cfworker/json-schema';
import { beforeAll, describe, expect, it } from 'vitest';
import { READER } from '../../shared/admin/operation.js';
import { parseProfile } from '../../shared/connections/profile.js';
import { handleApi } from '../../shared/http/api.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * GET /api/connection-schema: the JSON Schema of each type of profile, made from the profiles' zod schemas,
 * which the console's forms are generated from. A profile the API takes is valid for it, and the reverse
 * holds for what JSON Schema can say.
 */
describe('GET /api/connection-schema', () => {
  let t: TestApp;
  let schemas: Record<'csv' | 'entra' | 'okta' | 'scim', Schema>;
  const valid = (type: keyof typeof schemas, profile: unknown) => new Validator(schemas[type], '7', false).validate(profile).valid;

  beforeAll(async () => {
    t = await createTestApp();
    const response = await handleApi(t.app, { method: 'GET', path: 'connection-schema', query: new URLSearchParams() }, { actor: 'user:rita@example.org', roles: [READER] });
    expect(response.status).toBe(200);
    schemas = response.jsonBody as typeof schemas;
  });

  it('answers a schema per type, to a Reader, in which only what has no default is required', () => {
    expect(Object.keys(schemas).sort()).toEqual(['csv', 'entra', 'okta', 'scim']);
    expect(schemas.csv).toMatchObject({ type: 'object', required: ['name', 'type', 'source'], additionalProperties: false, properties: { type: { const: 'csv' } } });
    expect(schemas.entra.required).toEqual(['name', 'type', 'tenantId', 'clientId', 'credential']);
    expect(schemas.okta.required).toEqual(['name', 'type', 'orgUrl', 'credential']);
    expect(schemas.scim.required).toEqual(['name', 'type', 'tokenSecret']);
  });

  it('keeps the discriminator of each choice (source, schedule, credential), so a form shows the option the data holds', () => {
    expect(schemas.csv.properties?.source).toMatchObject({ discriminator: { propertyName: 'kind' }, oneOf: [{ properties: { kind: { const: 'blob' } } }, { properties: { kind: { const: 'https' } } }] });
    expect(schemas.csv.properties?.schedule).toMatchObject({ discriminator: { propertyName: 'kind' } });
    expect(schemas.okta.properties?.credential).toMatchObject({ discriminator: { propertyName: 'kind' } });
    expect(schemas.entra.properties?.credential).toMatchObject({ discriminator: { propertyName: 'kind' } });
  });

  it('accepts the profiles the API accepts, and refuses a typo or a wrong type as the API does', async () => {
    const sample = JSON.parse(await readFile('samples/hr-profile.json', 'utf8')) as Record<string, unknown>;
    const entra = { name: 'Contoso', type: 'entra', tenantId: 'contoso.onmicrosoft.com', clientId: '00000000-0000-0000-0000-000000000001', credential: { kind: 'secret', secretName: 'CONTOSO_SECRET' } };
    const okta = { name: 'Okta', type: 'okta', orgUrl: 'https://example.okta.com', credential: { kind: 'token', tokenSecret: 'OKTA_TOKEN' }, selectedGroups: ['00g1'] };
    for (const [type, profile] of [['csv', sample], ['entra', entra], ['okta', okta]] as const) {
      expect(() => parseProfile(profile)).not.toThrow();
      expect([type, valid(type, profile)]).toEqual([type, true]);
      // What the API fills in (defaults) is valid too: an edit form starts from the stored profile.
      expect([type, valid(type, parseProfile(profile))]).toEqual([type, true]);
    }
    const typo = { ...sample, colummMap: {} };
    expect(() => parseProfile(typo)).toThrow(/colummMap/);
    expect(valid('csv', typo)).toBe(false);
    expect(valid('csv', { ...sample, source: { kind: 'blob' } })).toBe(false);
    expect(valid('okta', { ...okta, credential: { kind: 'token', tokenSecret: 'not a setting name' } })).toBe(false);
  });
});
