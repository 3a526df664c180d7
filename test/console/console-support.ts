import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** What the data screens' browser tests share: who signs in, waiting on the page, and reading a table's rows. */

/** Who the data screens' tests sign in as, through Easy Auth: an admin, and a Reader to see what is left for them. */
export const ADMIN = { upn: 'ann@example.org', roles: ['UserSync.Admin'] };
export const READER = { upn: 'rita@example.org', roles: ['UserSync.Reader'] };

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
  const rows = await table.locator('tbody tr').all();
  return Promise.all(rows.map(async (row) => (await row.locator('td').allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim())));
}
