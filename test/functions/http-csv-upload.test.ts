import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiHost, type ApiHost } from '../support/api-host.js';
import { cliOn } from '../support/cli.js';
import { createTestApp, csvProfile, putProfile, syncNow, uploadCsv } from '../support/test-app.js';

/**
 * `PUT /connections/{name}/csv`: the file a "blob" profile reads, streamed to its blob up to
 * USERSYNC_CSV_MAX_BYTES; whatever is refused leaves the file the profile had.
 */
const GOOD = 'username,email,firstName,lastName\nann,ann@example.org,Ann,Upload\n';

describe('PUT /connections/{name}/csv through the local host', () => {
  let server: ApiHost;
  afterEach(() => server?.stop());
  const start = async () => {
    server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Upload-Initial-1', USERSYNC_CSV_MAX_BYTES: '200' });
    await putProfile(server.t, csvProfile('Upload', 'upload.csv'));
    return server;
  };
  /** Bytes, not a string: fetch would send a string as text/plain. */
  const put = (body: string, contentType: string | undefined, name = 'Upload') =>
    server.api(`connections/${name}/csv`, { method: 'PUT', body: Buffer.from(body), ...(contentType ? { headers: { 'content-type': contentType } } : {}) });
  const problem = async (response: Response) => ({ status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> });
  const stored = async () => String(await server.t.app.csvFiles.get('upload.csv'));

  it('stores a text/csv (or octet-stream, or untyped) body as the profile\'s file, and a run reads it', async () => {
    const { t } = await start();
    const response = await put(GOOD, 'text/csv; charset=utf-8');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ connection: 'Upload', blobName: 'upload.csv', bytes: Buffer.byteLength(GOOD) });
    expect(await stored()).toBe(GOOD);
    expect((await syncNow(t, 'Upload')).counts).toMatchObject({ created: 1 });

    const second = `${GOOD}bob,bob@example.org,Bob,Upload\n`;
    expect((await put(second, 'application/octet-stream')).status).toBe(200);
    expect(await stored()).toBe(second);
    expect((await put(GOOD, undefined)).status).toBe(200);
    expect(await stored()).toBe(GOOD);
  });

  it('over USERSYNC_CSV_MAX_BYTES: 413 problem+json, and the profile keeps its file', async () => {
    await start();
    expect((await put(GOOD, 'text/csv')).status).toBe(200);
    const tooLarge = await problem(await put(`${GOOD}${'x,x@example.org,X,Upload\n'.repeat(10)}`, 'text/csv'));
    expect(tooLarge).toMatchObject({ status: 413, type: 'application/problem+json', body: { code: 'body-too-large', detail: expect.stringContaining('larger than 200 bytes (USERSYNC_CSV_MAX_BYTES)') } });
    expect(await stored()).toBe(GOOD);
  });

  it('refuses an empty file (400), another media type (415), a profile that reads no uploaded file (400) and an unknown one (404)', async () => {
    const { t } = await start();
    expect((await put(GOOD, 'text/csv')).status).toBe(200);
    expect(await problem(await put('', 'text/csv'))).toMatchObject({ status: 400, body: { code: 'body-invalid', detail: expect.stringContaining('empty') } });
    expect(await problem(await put(GOOD, 'application/json'))).toMatchObject({
      status: 415,
      type: 'application/problem+json',
      body: { code: 'media-type-unsupported', detail: 'Send the file as text/csv or application/octet-stream, not application/json.' },
    });
    expect(await stored()).toBe(GOOD);
    await putProfile(t, csvProfile('Remote', 'unused.csv', { source: { kind: 'https', url: 'https://hr.example.org/people.csv' } }));
    expect(await problem(await put(GOOD, 'text/csv', 'Remote'))).toMatchObject({ status: 400, body: { code: 'profile-invalid' } });
    expect(await problem(await put(GOOD, 'text/csv', 'Nobody'))).toMatchObject({ status: 404, body: { code: 'connection-not-found' } });
    const wrong = await server.api('connections/Upload/csv', { method: 'POST', body: GOOD });
    expect([wrong.status, wrong.headers.get('allow')]).toEqual([405, 'PUT, OPTIONS']);
  });
});

describe('usersync csv upload', () => {
  it('obeys the same limit: one error line, exit 2, the old file kept', async () => {
    const t = await createTestApp({ USERSYNC_CSV_MAX_BYTES: '200' });
    await putProfile(t, csvProfile('Upload', 'upload.csv'));
    await uploadCsv(t, 'upload.csv', GOOD);
    const file = join(await mkdtemp(join(tmpdir(), 'usersync-upload-')), 'big.csv');
    await writeFile(file, GOOD.repeat(10));
    const result = await cliOn(t, 'csv', 'upload', 'Upload', file);
    expect(result).toMatchObject({ code: 2, out: [] });
    expect(result.err).toEqual(['error [body-too-large]: The CSV file is larger than 200 bytes (USERSYNC_CSV_MAX_BYTES). Nothing was stored: the profile still reads the file it had.']);
    expect(String(await t.app.csvFiles.get('upload.csv'))).toBe(GOOD);
  });
});
