import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** `npx usersync` as a newcomer meets it: the bin entry, run by node with only a PATH. */
function usersync(...args: string[]) {
  // Run from an empty folder, so a developer's own local.settings.json cannot answer for the test.
  return spawnSync(process.execPath, [resolve('bin/usersync.js'), ...args], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '', HOME: tmpdir() }, encoding: 'utf8', timeout: 30_000 });
}

describe('the usersync bin', () => {
  it('prints its help without any settings', () => {
    const result = usersync('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usersync — User Directory Sync admin CLI/);
    expect(result.stdout).toContain('usersync sync NAME [--dry-run]');
  });

  it('says which setting is missing instead of failing obscurely', () => {
    const result = usersync('status');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('error [config-invalid]: Invalid app settings: AzureWebJobsStorage: set a storage connection string');
  });
});
