import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AppInsightsAuditLog, runSummaryEvent, startTelemetry, type Telemetry } from '../../shared/telemetry/app-insights.js';
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from '../../shared/audit/audit-log.js';
import { emptyCounts } from '../../shared/sync/model.js';
import { startIngestion, type Envelope, type Ingestion } from '../fakes/app-insights-ingestion.js';
import type { Run } from '../../shared/sync/run-model.js';

/**
 * `useAzureMonitor` installs process-global OpenTelemetry providers, so this file starts it once and keeps every
 * Application Insights test here. The ingestion endpoint is a local HTTPS server (the exporter upgrades http to
 * https) trusted through NODE_EXTRA_CA_CERTS, set by test/support/global-setup.ts.
 */

class ArrayAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  async write(records: readonly AuditRecord[]): Promise<void> {
    this.records.push(...records);
  }
  async query(query: AuditQuery): Promise<AuditPage> {
    return { records: this.records.filter((r) => !query.runId || r.runId === query.runId).slice(0, query.limit) };
  }
}

const at = '2026-11-21T23:53:21.000Z';

function events(ingestion: Ingestion): Envelope[] {
  return ingestion.envelopes.filter((e) => e.data?.baseType === 'EventData');
}

function eventNamed(ingestion: Ingestion, name: string, subject?: string): Envelope | undefined {
  return events(ingestion).find(
    (e) => e.data?.baseData?.name === name && (subject === undefined || e.data.baseData.properties?.subject === subject),
  );
}

describe('Application Insights audit telemetry', () => {
  let ingestion: Ingestion;

  beforeAll(async () => {
    ingestion = await startIngestion({ cert: inject('tlsCert'), key: inject('tlsKey') });
  });

  afterAll(async () => {
    await ingestion?.close();
  });

  it('without a connection string sends nothing and still writes to the inner log', async () => {
    for (const blank of [undefined, '', '   ']) {
      const telemetry = startTelemetry(blank);
      expect(telemetry.enabled).toBe(false);
      const inner = new ArrayAuditLog();
      const audit = new AppInsightsAuditLog(inner, telemetry);
      await audit.write([{ runId: 'r0', connection: 'hr-csv', action: 'created', subject: 'u0', actor: 'timer', at }]);
      expect(inner.records).toHaveLength(1);
      expect((await audit.query({ runId: 'r0', limit: 10 })).records).toHaveLength(1);
      telemetry.event('UserSync.nothing', { a: 1 });
      runSummaryEvent(telemetry, { runId: 'r0' } as Run);
      await telemetry.flush();
      await telemetry.shutdown();
    }
    expect(ingestion.requests).toEqual([]);
  });

  describe('with a connection string', () => {
    let telemetry: Telemetry;
    const inner = new ArrayAuditLog();

    beforeAll(async () => {
      const connectionString =
        `InstrumentationKey=00000000-0000-0000-0000-000000000000;` +
        `IngestionEndpoint=${ingestion.url};LiveEndpoint=${ingestion.url}`;
      telemetry = startTelemetry(connectionString);
      expect(telemetry.enabled).toBe(true);
      // Once per process: a second start hands back the same telemetry.
      expect(startTelemetry(connectionString)).toBe(telemetry);

      const audit = new AppInsightsAuditLog(inner, telemetry);
      const created = {
        runId: 'run-1',
        connection: 'hr-csv',
        action: 'created',
        subject: 'emp-001',
        username: 'ada@example.com',
        ref: 'row 2',
        actor: 'timer',
        at,
        // Not an audit field: must never leave the process.
        password: 'hunter2-must-not-leak',
      } as AuditRecord;
      await audit.write([
        created,
        {
          runId: 'run-1',
          connection: 'hr-csv',
          action: 'updated',
          subject: 'emp-002',
          changedFields: ['displayName', 'department'],
          changes: [
            { field: 'displayName', from: 'Ada', to: 'Ada L.' },
            { field: 'department', to: 'Sales' },
          ],
          actor: 'cli:ann',
          confirmedAt: at,
          at,
        },
        {
          runId: 'run-1',
          connection: 'hr-csv',
          action: 'skipped',
          subject: 'emp-003',
          reason: 'missing-email',
          detail: 'Row 4 has no email address.',
          actor: 'timer',
          at,
        },
      ]);
      runSummaryEvent(telemetry, {
        runId: 'run-1',
        connection: 'hr-csv',
        kind: 'full',
        state: 'failed',
        counts: { ...emptyCounts(), created: 30, updated: 10, unchanged: 60 },
        startedAt: '2026-11-21T23:53:21.000Z',
        endedAt: '2026-11-21T23:53:25.000Z',
        error: { code: 'source-unavailable', message: 'The CSV could not be read.' },
      } as Run);
      await telemetry.flush();
      await telemetry.shutdown();
    });

    it('writes to the inner log first', () => {
      expect(inner.records.map((r) => r.subject)).toEqual(['emp-001', 'emp-002', 'emp-003']);
    });

    it('sends each audit record as a UserSync.<action> custom event', () => {
      const created = eventNamed(ingestion, 'UserSync.created', 'emp-001');
      expect(created).toBeDefined();
      expect(created?.name).toMatch(/Event$/);
      expect(created?.iKey).toBe('00000000-0000-0000-0000-000000000000');
      expect(created?.data?.baseData?.properties).toMatchObject({
        runId: 'run-1',
        connection: 'hr-csv',
        subject: 'emp-001',
        username: 'ada@example.com',
        ref: 'row 2',
      });

      const updated = eventNamed(ingestion, 'UserSync.updated', 'emp-002');
      expect(updated?.data?.baseData?.properties).toMatchObject({
        runId: 'run-1',
        connection: 'hr-csv',
        subject: 'emp-002',
        changedFields: 'displayName,department',
        actor: 'cli:ann',
        confirmedAt: at,
      });
      expect(JSON.parse(String(updated?.data?.baseData?.properties?.changes))).toEqual([
        { field: 'displayName', from: 'Ada', to: 'Ada L.' },
        { field: 'department', to: 'Sales' },
      ]);

      const skipped = eventNamed(ingestion, 'UserSync.skipped', 'emp-003');
      expect(skipped?.data?.baseData?.properties).toMatchObject({
        reason: 'missing-email',
        detail: 'Row 4 has no email address.',
      });
    });

    it('sends only whitelisted properties', () => {
      const created = eventNamed(ingestion, 'UserSync.created', 'emp-001');
      const properties = created?.data?.baseData?.properties ?? {};
      expect(properties).not.toHaveProperty('password');
      expect(properties).not.toHaveProperty('at');
      expect(properties).not.toHaveProperty('action');
      expect(JSON.stringify(ingestion.envelopes)).not.toContain('hunter2-must-not-leak');
      const allowed = ['runId', 'connection', 'subject', 'username', 'ref', 'reason', 'detail', 'changedFields', 'changes', 'actor', 'confirmedAt'];
      for (const event of events(ingestion).filter((e) => e.data?.baseData?.name !== 'UserSync.runSummary')) {
        for (const key of Object.keys(event.data?.baseData?.properties ?? {})) expect(allowed).toContain(key);
      }
    });

    it('sends a run summary with counts, duration and throughput', () => {
      const summary = eventNamed(ingestion, 'UserSync.runSummary');
      expect(summary?.data?.baseData?.properties).toMatchObject({
        runId: 'run-1',
        connection: 'hr-csv',
        kind: 'full',
        state: 'failed',
        created: '30',
        updated: '10',
        unchanged: '60',
        disabled: '0',
        durationSeconds: '4',
        usersPerSecond: '25',
        errorCode: 'source-unavailable',
      });
      expect(JSON.stringify(summary)).not.toContain('The CSV could not be read.');
    });

    it('drops events after shutdown instead of failing', async () => {
      const before = events(ingestion).length;
      const audit = new AppInsightsAuditLog(inner, telemetry);
      await audit.write([{ runId: 'run-2', connection: 'hr-csv', action: 'created', subject: 'late', actor: 'timer', at }]);
      await telemetry.flush();
      expect(inner.records.at(-1)?.subject).toBe('late');
      expect(events(ingestion).length).toBe(before);
    });
  });
});
