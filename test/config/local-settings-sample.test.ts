import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../shared/config/settings.js';

/** Every setting the code reads has a safe local default in local.settings.sample.json, and nothing stale is left there. */
describe('local.settings.sample.json', () => {
  const sample = JSON.parse(readFileSync('local.settings.sample.json', 'utf8')) as { Values: Record<string, string> };
  const hostOnly = ['USERSYNC_LOCAL_PORT', 'USERSYNC_LOCAL_WORKERS', 'USERSYNC_LOCAL_LEASE_SECONDS'];
  const functionsRuntime = ['FUNCTIONS_WORKER_RUNTIME'];
  const sampleSecrets = ['HR_DEFAULT_PASSWORD']; // named by samples/hr-profile.json

  it('lists every app setting of the schema and of the local host', () => {
    for (const name of [...Object.keys(settingsSchema.shape), ...hostOnly]) expect(Object.keys(sample.Values)).toContain(name);
  });

  it('has nothing the code does not read', () => {
    const known = new Set([...Object.keys(settingsSchema.shape), ...hostOnly, ...functionsRuntime, ...sampleSecrets]);
    expect(Object.keys(sample.Values).filter((name) => !known.has(name))).toEqual([]);
  });

  it('names every host-only setting where bin/local-host.ts reads it', () => {
    const source = readFileSync('bin/local-host.ts', 'utf8');
    for (const name of hostOnly) expect(source).toContain(`env.${name}`);
    expect(readFileSync('samples/hr-profile.json', 'utf8')).toContain('"HR_DEFAULT_PASSWORD"');
  });
});
