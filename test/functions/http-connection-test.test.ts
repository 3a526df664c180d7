import { afterEach, describe, expect, it } from 'vitest';
import { startApiHost, type ApiHost } from '../support/api-host.js';
import { csvProfile, putProfile, uploadCsv } from '../support/test-app.js';

const GOOD = 'username,email,firstName,lastName\nann,ann@example.org,Ann,Test\n';

describe('POST /connections/{name}/test: what the directory or file says is the answer, not a failed request', () => {
  let server: ApiHost;
  afterEach(() => server?.stop());
  const test = async (name: string): Promise<{ status: number; type: string | null; body: unknown }> => {
    const response = await server.api(`connections/${encodeURIComponent(name)}/test`, { method: 'POST' });
    return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
  };

  it('a bad header, an empty or missing file, an insecure URL or a missing setting: 200, ok false, the code and sentence', async () => {
    server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Test-Initial-1', HR_PASSWORD: 'hr-basic-password' });
    const { t } = server;
    await uploadCsv(t, 'no-names.csv', 'username;email\nx;x@example.org\n');
    await uploadCsv(t, 'empty.csv', '');
    await putProfile(t, csvProfile('Header', 'no-names.csv'));
    await putProfile(t, csvProfile('Empty', 'empty.csv'));
    await putProfile(t, csvProfile('Missing', 'never-uploaded.csv'));
    await putProfile(t, csvProfile('Insecure', 'x.csv', { source: { kind: 'https', url: 'http://hr.example.org/people.csv', username: 'sync', passwordSecret: 'HR_PASSWORD' } }));
    await putProfile(t, csvProfile('NoSetting', 'x.csv', { defaultPasswordSecret: 'NOT_SET_ANYWHERE' }));

    for (const [name, code, sentence] of [
      ['Header', 'csv-header-invalid', /firstName/],
      ['Empty', 'csv-empty', /empty/],
      ['Missing', 'source-not-found', /"never-uploaded\.csv" has not been uploaded/],
      ['Insecure', 'source-insecure-url', /must use https/],
      ['NoSetting', 'secret-missing', /"NOT_SET_ANYWHERE"/],
    ] as const) {
      const { status, body } = await test(name);
      expect(status).toBe(200);
      expect(body).toEqual({ ok: false, code, detail: expect.stringMatching(sentence), warnings: [] });
    }
    expect(JSON.stringify(await test('Insecure'))).not.toContain('hr-basic-password');
  });

  it('an unknown profile is the request\'s mistake: 404 problem+json', async () => {
    server = await startApiHost();
    const { status, type, body } = await test('Nobody');
    expect(status).toBe(404);
    expect(type).toBe('application/problem+json');
    expect(body).toMatchObject({ code: 'connection-not-found' });
  });

  it('warns that new users cannot be created when the file has no password column and the profile names no default password', async () => {
    server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Test-Initial-1' });
    const { t } = server;
    await uploadCsv(t, 'plain.csv', GOOD);
    await uploadCsv(t, 'with-passwords.csv', 'username,email,firstName,lastName,Password\nann,ann@example.org,Ann,Test,Initial-Pa55\n');
    await putProfile(t, csvProfile('NoPasswords', 'plain.csv', { defaultPasswordSecret: undefined }));
    await putProfile(t, csvProfile('ColumnPasswords', 'with-passwords.csv', { defaultPasswordSecret: undefined }));
    await putProfile(t, csvProfile('DefaultPassword', 'plain.csv'));

    const warned = (await test('NoPasswords')).body as { ok: boolean; warnings: string[] };
    expect(warned).toMatchObject({ ok: true, warnings: [expect.stringMatching(/^New users cannot be created: the file has no "password" column and the profile names no defaultPasswordSecret/)] });
    expect((await test('ColumnPasswords')).body).toMatchObject({ ok: true, warnings: [] });
    expect((await test('DefaultPassword')).body).toMatchObject({ ok: true, warnings: [] });
  });
});
