import { describe, expect, it } from 'vitest';
import { cliOn } from '../support/cli.js';
import { createTestApp, csvProfile, putProfile, uploadCsv } from '../support/test-app.js';

describe('usersync connection test', () => {
  it('prints OK and each warning (exit 0), or FAILED with the code (exit 1)', async () => {
    const t = await createTestApp();
    await uploadCsv(t, 'plain.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,Cli\n');
    await uploadCsv(t, 'empty.csv', '');
    await putProfile(t, csvProfile('NoPasswords', 'plain.csv', { defaultPasswordSecret: undefined }));
    await putProfile(t, csvProfile('Empty', 'empty.csv', { defaultPasswordSecret: undefined }));

    const warned = await cliOn(t, 'connection', 'test', 'NoPasswords');
    expect(warned.code).toBe(0);
    expect(warned.out).toEqual([
      expect.stringMatching(/^OK: Read the CSV file: 4 columns/),
      expect.stringMatching(/^warning: New users cannot be created: the file has no "password" column/),
    ]);

    expect(await cliOn(t, 'connection', 'test', 'Empty')).toEqual({ code: 1, out: ['FAILED [csv-empty]: The CSV file is empty.'], err: [] });
    expect(await cliOn(t, 'connection', 'test', 'Nobody')).toMatchObject({ code: 2, err: ['error [connection-not-found]: There is no connection profile named "Nobody".'] });
  });
});
