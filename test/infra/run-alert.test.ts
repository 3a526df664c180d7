import { describe, expect, it } from 'vitest';
import { runSummaryEvent, type EventProperties, type Telemetry } from '../../shared/telemetry/app-insights.js';
import { TERMINAL_STATES, type Run } from '../../shared/sync/run-model.js';
import { bicepFile, groupAfter, valueOf } from './bicep-text.js';

/** A failed or held run raises an alert: infra/modules/run-alert.bicep queries the event the app really sends. */
const main = bicepFile('main.bicep');
const alert = bicepFile('modules/run-alert.bicep');
const query = /^var runQuery = '''([\s\S]*?)'''/m.exec(alert)?.[1] ?? '';
const rule = groupAfter(alert, "resource runAlert 'Microsoft.Insights/scheduledQueryRules@", '{');

/** The run summary event as the app sends it, captured by a telemetry that records instead of exporting. */
function sentSummary(): { name: string; properties: EventProperties } {
  const sent: { name: string; properties: EventProperties }[] = [];
  const telemetry: Telemetry = {
    enabled: true,
    event: (name, properties) => sent.push({ name, properties }),
    flush: async () => {},
    shutdown: async () => {},
  };
  runSummaryEvent(telemetry, { runId: '20261121T235321Z-3f9a1c', connection: 'HR export', kind: 'full', state: 'failed', counts: {}, startedAt: '2026-11-21T23:53:21.000Z' } as unknown as Run);
  expect(sent).toHaveLength(1);
  return sent[0] ?? { name: '', properties: {} };
}

describe('run alert', () => {
  it('exists only when alertEmail is set, which by default it is not', () => {
    expect(main).toMatch(/^param alertEmail string = ''$/m);
    const module = groupAfter(main, "module runAlert 'modules/run-alert.bicep' = if (!empty(alertEmail))", '{');
    expect([valueOf(module, 'alertEmail'), valueOf(module, 'appInsightsId')]).toEqual(['alertEmail', 'appInsights.id']);
  });

  it('queries the run summary event the app sends, by properties it carries', () => {
    const { name, properties } = sentSummary();
    expect(query).toContain(`customEvents\n| where name == "${name}"`);
    const used = [...query.matchAll(/customDimensions\.(\w+)/g)].map((match) => match[1] ?? '');
    expect(used.sort()).toEqual(['connection', 'runId', 'state']);
    expect(used.filter((property) => !(property in properties))).toEqual([]);
    expect(valueOf(rule, 'kind')).toBe("'LogAlert'");
    expect(groupAfter(rule, 'scopes:')).toMatch(/^\[\s*appInsightsId\s*\]$/);
  });

  it('fires for runs that ended failed or needs-confirmation, and no other state', () => {
    const states = /\| where state in \(([^)]*)\)/.exec(query)?.[1]?.split(',').map((state) => state.trim().replace(/^"|"$/g, ''));
    expect(states).toEqual(['failed', 'needs-confirmation']);
    expect(states?.filter((state) => !(TERMINAL_STATES as readonly string[]).includes(state))).toEqual([]);
  });

  it('alerts once per run: each event counts in the one evaluation after it arrived, one alert per run id', () => {
    const frequency = Number(/^PT(\d+)M$/.exec(valueOf(rule, 'evaluationFrequency')?.replace(/'/g, '') ?? '')?.[1]);
    expect(query).toContain(`ingestion_time() > ago(${frequency}m)`);
    const window = /^'PT(\d+)([MH])'$/.exec(valueOf(rule, 'windowSize') ?? '');
    expect(Number(window?.[1]) * (window?.[2] === 'H' ? 60 : 1)).toBeGreaterThanOrEqual(frequency);
    expect(valueOf(rule, 'autoMitigate')).toBe('false');
    expect([...groupAfter(rule, 'dimensions:').matchAll(/name: '(\w+)'/g)].map((match) => match[1])).toContain('runId');
  });

  it('mails alertEmail through its action group', () => {
    const group = groupAfter(alert, "resource actionGroup 'Microsoft.Insights/actionGroups@", '{');
    expect(valueOf(groupAfter(group, 'emailReceivers:'), 'emailAddress')).toBe('alertEmail');
    expect(groupAfter(rule, 'actionGroups:')).toMatch(/^\[\s*actionGroup\.id\s*\]$/);
  });
});
