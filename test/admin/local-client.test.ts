import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { composeApp } from '../../shared/app/compose.js';
import { localAdminClient } from '../../shared/host/local-admin-client.js';
import type { Run } from '../../shared/sync/run-model.js';
import { functionDefinitions } from '../../functions/registry.js';
import { createTestApp, csvProfile, putProfile, uploadCsv } from '../support/test-app.js';

/** The CLI's client: operations in-process, a run driven to its end here, failures an admin can fix said so. */
describe('the local admin client', () => {
  it('waitForRun works the queues until the run ends, telling onProgress what it sees on the way', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Client-Initial-1' });
    await uploadCsv(t, 'client.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,Client\nbob,bob@example.org,Bob,Client\n');
    await putProfile(t, csvProfile('Client', 'client.csv'));
    const client = localAdminClient(t.app, t.definitions);

    const started = await client.call('connections.sync', { name: 'Client' });
    expect(started).toMatchObject({ state: 'listing', resumed: false });
    const seen: Run[] = [];
    const ended = await client.waitForRun(started.runId, { onProgress: (run) => seen.push(run) });
    expect(ended).toMatchObject({ runId: started.runId, state: 'succeeded', counts: { created: 2 } });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((run) => run.runId === started.runId)).toBe(true);
    expect(seen.at(-1)).toEqual(ended);
    // What the CLI formats is what the API would send: plain JSON, unchanged by a round trip.
    expect(JSON.parse(JSON.stringify(ended))).toEqual(ended);
  });

  it('a storage account that does not answer is one AppError saying what to do, not the SDK error', async () => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    await new Promise((done) => server.close(done));
    const endpoint = (service: string) => `${service}Endpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
    const app = composeApp({
      AzureWebJobsStorage: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from('not a real key').toString('base64')};${endpoint('Blob')}${endpoint('Queue')}${endpoint('Table')}`,
    });
    const client = localAdminClient(app, functionDefinitions(app));
    await expect(client.call('connections.list', {})).rejects.toMatchObject({ name: 'AppError', code: 'storage-unreachable', message: expect.stringContaining('is Azurite running?') });
  });
});
