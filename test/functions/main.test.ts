import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { composeApp } from '../../shared/app/compose.js';

/** functions/main.ts is what the Functions host loads: it must refuse to start on bad settings. */
function loadMain(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', '-e', "await import('./functions/main.ts')"], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('start-up configuration', () => {
  it('throws config-invalid naming every bad setting', () => {
    expect(() => composeApp({ USERSYNC_NAME_PREFIX: 'Bad_Prefix', USERSYNC_PAGE_SIZE: '0' })).toThrow(
      expect.objectContaining({ code: 'config-invalid', message: expect.stringMatching(/AzureWebJobsStorage.*USERSYNC_NAME_PREFIX.*USERSYNC_PAGE_SIZE/s) }),
    );
  });

  it('the Functions entry point fails loudly instead of starting with no functions', () => {
    const result = loadMain({});
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/config-invalid|Invalid app settings/);
    expect(result.stderr).toMatch(/AzureWebJobsStorage/);
  });

  it('the Functions entry point registers every function with valid settings', () => {
    const result = loadMain({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(result.status).toBe(0);
    // Outside the Functions runtime the package runs in "test mode" and names each registration it skips.
    const registered = [...`${result.stdout}${result.stderr}`.matchAll(/register function "(\w+)"/g)].map((m) => m[1]);
    expect(registered).toEqual(['timerTick', 'pageJob', 'reconcileJob', 'finaliseJob', 'pageJobPoison', 'reconcileJobPoison', 'finaliseJobPoison', 'httpApi', 'scim', 'httpConsole']);
  });
});
