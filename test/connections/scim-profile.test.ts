import { describe, expect, it } from 'vitest';
import { parseProfile, profileJsonSchemas, secretNamesOf, type ConnectionProfile } from '../../shared/connections/profile.js';
import { AppError } from '../../shared/errors/app-error.js';

const minimal = { name: 'Entra push', type: 'scim', tokenSecret: 'SCIM_TOKEN' };

function refusal(input: unknown): AppError {
  try {
    parseProfile(input);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('the profile was accepted');
}

describe('the scim profile type', () => {
  it('accepts a minimal profile and fills the defaults: no schedule, no disable guard', () => {
    expect(parseProfile(minimal)).toEqual<ConnectionProfile>({
      name: 'Entra push',
      type: 'scim',
      enabled: true,
      tokenSecret: 'SCIM_TOKEN',
      attributeMap: {},
      groups: { mode: 'all', keepLocalGroups: false },
      orgChart: true,
    });
  });

  it('maps core and extension attributes by their SCIM names', () => {
    const profile = parseProfile({
      ...minimal,
      attributeMap: { title: 'jobTitle', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department': 'department', 'name.formatted': 'displayName' },
    });
    expect(profile.type === 'scim' && profile.attributeMap).toEqual({
      title: 'jobTitle',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department': 'department',
      'name.formatted': 'displayName',
    });
  });

  it('refuses unknown keys (a schedule, a guard, a typo) by name', () => {
    const error = refusal({ ...minimal, schedule: { kind: 'hourly' }, disableGuard: {}, tokenSecrt: 'X' });
    expect(error.code).toBe('profile-invalid');
    expect(error.message).toContain('schedule');
    expect(error.message).toContain('disableGuard');
    expect(error.message).toContain('tokenSecrt');
  });

  it('takes the token by the name of its app setting, never a token: a value is refused and not echoed', () => {
    const token = 'eyJhbGciOi.secret-token-value/+==';
    const error = refusal({ ...minimal, tokenSecret: token });
    expect(error.message).toContain('tokenSecret');
    expect(error.message).not.toContain(token);
    expect(JSON.stringify(error.details)).not.toContain(token);
  });

  it('refuses a mapping to a field name that is not one, and a SCIM attribute that is not one', () => {
    const error = refusal({ ...minimal, attributeMap: { title: 'job title', 'not an attribute': 'x' } });
    expect(error.message).toContain('attributeMap');
  });

  it('names its token as the secret a connection needs, and has a JSON schema for the console form', () => {
    expect(secretNamesOf(parseProfile(minimal))).toEqual(['SCIM_TOKEN']);
    const schema = profileJsonSchemas().scim as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties).sort()).toEqual(['attributeMap', 'enabled', 'groups', 'name', 'orgChart', 'tokenSecret', 'type']);
    expect(schema.required.sort()).toEqual(['name', 'tokenSecret', 'type']);
  });
});
