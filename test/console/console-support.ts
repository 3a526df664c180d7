import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/**
 * What the data screens' browser tests share: who the console believes is signed in, axe-core in the page,
 * and reading a table's rows.
 */

const ADMIN = { actor: 'api', name: 'local admin', roles: ['UserSync.Admin'] };
const READER = { actor: 'user:rita@example.org', name: 'rita@example.org', roles: ['UserSync.Reader'] };

/**
 * The console asks GET /api/me who is signed in. The local host treats every caller as an admin, so a
 * Reader's console can only be shown by answering that one request as Easy Auth would for a Reader (the API
 * itself still acts as the local host's admin: this checks what the page offers, the API's refusals are
 * tested in test/functions/http-roles.test.ts). As an admin, the app's own answer is used where it has the
 * route; where it has not yet, the local host's caller is answered.
 */
export async function signInAs(page: Page, role: 'admin' | 'reader'): Promise<void> {
  await page.unroute('**/api/me');
  await page.route('**/api/me', async (route) => {
    if (role === 'reader') return route.fulfill({ json: READER });
    const response = await route.fetch();
    return response.status() === 404 ? route.fulfill({ json: ADMIN }) : route.fulfill({ response });
  });
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** axe-core run in the page as it is now (injected by evaluate, so a strict CSP cannot block it): no serious or critical violation. */
export async function expectAccessible(page: Page): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const { violations } = (await page.evaluate('axe.run()')) as { violations: AxeViolation[] };
  const serious = violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.help}): ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
  expect(serious).toEqual([]);
}

/** expect.poll with room for a busy machine (its default gives up after one second). */
export function eventually<T>(probe: () => T | Promise<T>) {
  return expect.poll(probe, { timeout: 20_000, interval: 50 });
}

/** How wide the page is: wider than the window means the whole page scrolls sideways. */
export async function pageWidth(page: Page): Promise<number> {
  return (await page.evaluate('document.documentElement.scrollWidth')) as number;
}

/** The body rows of a table, each as the text of its cells (white space collapsed, as it reads). */
export async function rowsOf(table: Locator): Promise<string[][]> {
  await table.waitFor();
  return table.locator('tbody tr').evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => (cell as unknown as { innerText: string }).innerText.replace(/\s+/g, ' ').trim())));
}
