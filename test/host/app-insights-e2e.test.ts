import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLOUD_ROLE_NAME } from '../../shared/telemetry/app-insights.js';
import { startIngestion, type Envelope, type Ingestion } from '../fakes/app-insights-ingestion.js';
import { scriptFetch } from '../support/api-host.js';
import { startHostProcess } from '../support/local-host-process.js';
import { createTestApp, csvProfile, putProfile, uploadCsv, type TestApp } from '../support/test-app.js';
import { waitUntil } from '../support/wait.js';

const PASSWORD = 'E2e-Initial-Secret-1';

/**
 * A sync through the real local host process, with APPLICATIONINSIGHTS_CONNECTION_STRING pointing at a
 * local ingestion server: the envelopes it receives are what Application Insights would store.
 */
describe('Application Insights through a real run on the local host', () => {
  let t: TestApp;
  let ingestion: Ingestion;
  let events: Envelope[];
  let runId: string;

  beforeAll(async () => {
    ingestion = await startIngestion({ cert: inject('tlsCert'), key: inject('tlsKey') });
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: PASSWORD });
    await putProfile(t, csvProfile('Insights', 'insights.csv'));
    await uploadCsv(t, 'insights.csv', 'username,email,firstName,lastName\nian,ian@example.org,Ian,Insight\nivy,,Ivy,Insight\nina,ina@example.org,Ina,Insight\n');

    const host = startHostProcess({
      ...t.env,
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=${ingestion.url};LiveEndpoint=${ingestion.url}`,
    });
    try {
      const api = await host.apiUrl;
      const started = await scriptFetch(`${api}/connections/Insights/sync`, { method: 'POST' });
      expect(started.status).toBe(202);
      runId = ((await started.json()) as { runId: string }).runId;
      await waitUntil(
        async () => {
          const { state } = (await (await fetch(`${api}/runs/${runId}`)).json()) as { state: string };
          expect(state).not.toBe('failed');
          return state === 'succeeded';
        },
        'the run to succeed',
        90_000,
        100,
      );
    } finally {
      await host.stop(); // SIGTERM: the host flushes what telemetry is batched before it exits
    }
    events = ingestion.envelopes.filter((e) => e.data?.baseType === 'EventData');
  }, 120_000);
  afterAll(() => ingestion?.close());

  const named = (name: string) => events.filter((e) => e.data?.baseData?.name === name);

  // Audit events are at least once: a redelivered or doubly delivered job writes the same audit rows again
  // (the table keeps one), and its events are sent again. Distinct values are what must match.
  const distinct = (name: string, property: string) => [...new Set(named(name).map((e) => e.data?.baseData?.properties?.[property]))].sort();

  it('sends every audit record of the run as a UserSync.<action> event', () => {
    expect(distinct('UserSync.run-started', 'runId')).toEqual([runId]);
    expect(distinct('UserSync.created', 'username')).toEqual(['ian', 'ina']);
    expect(named('UserSync.skipped').map((e) => e.data?.baseData?.properties)).toContainEqual(expect.objectContaining({ runId, connection: 'Insights', reason: 'missing-email' }));
    expect(distinct('UserSync.skipped', 'subject')).toHaveLength(1);
    expect(distinct('UserSync.run-succeeded', 'runId')).toEqual([runId]);
  });

  it('sends one run summary with the counts, and tags everything with the cloud role', () => {
    const [summary, ...more] = named('UserSync.runSummary');
    expect(more).toEqual([]);
    expect(summary?.data?.baseData?.properties).toMatchObject({ runId, connection: 'Insights', state: 'succeeded', created: '2', skipped: '1' });
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event.tags?.['ai.cloud.role']).toBe(CLOUD_ROLE_NAME);
    expect(events.every((e) => e.iKey === '11111111-2222-3333-4444-555555555555')).toBe(true);
  });

  it('never sends the initial password or a password hash', () => {
    const sent = JSON.stringify(ingestion.envelopes);
    expect(sent).not.toContain(PASSWORD);
    expect(sent).not.toMatch(/scrypt|passwordHash/i);
  });
});
