import { describe, expect, it } from 'vitest';
import { createTestApp } from '../support/test-app.js';

/**
 * The licence ledger's one row on Azurite: every take happens once per operation id, and the ids it remembers stay
 * within what a Table string property holds (64 KiB): past ~1,200 SCIM creates, every take used to fail.
 */
describe('the licence ledger (Table Storage)', () => {
  it('keeps counting past the size a string property holds, remembering the newest operations', async () => {
    const t = await createTestApp();
    const { licences } = t.app.deps;
    // 400 ids of 200 characters: 80,000 characters of JSON if all were kept.
    const id = (i: number) => `op-${String(i).padStart(4, '0')}-${'x'.repeat(192)}`;
    for (let i = 0; i < 400; i += 1) expect(await licences.take(id(i), 1)).toBe(1);
    expect(await licences.used()).toBe(400);

    // A retried operation still counts once; one long past is forgotten (its retries come within seconds).
    expect(await licences.take(id(399), 1)).toBe(1);
    expect(await licences.used()).toBe(400);
    const row = await t.table('licencesTable').getEntity<{ operations: string }>('licence', 'seats');
    expect(row.operations.length).toBeLessThanOrEqual(30_000);
    const remembered = Object.keys(JSON.parse(row.operations) as Record<string, number>);
    expect(remembered.at(-1)).toBe(id(399));
    expect(remembered).not.toContain(id(0));
  }, 120_000);
});
