import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../shared/http/security-headers.js';
import { expectAccessible, openConsole, type ConsoleSession } from '../support/console-browser.js';

/**
 * The console's shell in Chromium, served by the app itself: it opens at the app's address, says who is signed
 * in, reloads into any deep link, is usable with the keyboard, runs under the strict CSP without a violation,
 * talks to its own origin only, and is accessible at 1280 and 390 px.
 */
const NAV = ['Connections', 'Runs', 'Users', 'Audit', 'Local accounts & groups', 'Licences'];

/** What the page reports of the CSP (securitypolicyviolation events, console errors) and every URL it asks for. */
interface Watch {
  violations: string[];
  requests: string[];
}

async function watch(page: Page): Promise<Watch> {
  const seen: Watch = { violations: [], requests: [] };
  page.on('request', (request) => seen.requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) seen.violations.push(message.text());
  });
  await page.exposeFunction('reportCspViolation', (text: string) => seen.violations.push(text));
  // Installed through the DevTools protocol before the page's own scripts: a test's listener, not the page's.
  await page.addInitScript(() => {
    const target = globalThis as unknown as {
      document: { addEventListener(type: string, listener: (event: { violatedDirective: string; blockedURI: string }) => void): void };
      reportCspViolation(text: string): void;
    };
    target.document.addEventListener('securitypolicyviolation', (event) => target.reportCspViolation(`${event.violatedDirective} ${event.blockedURI}`));
  });
  return seen;
}

/** The text of what has the keyboard focus. */
async function focused(page: Page): Promise<string> {
  return ((await page.locator(':focus').textContent()) ?? '').trim();
}

describe('the console shell', () => {
  let s: ConsoleSession | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('opens at the app\'s address on Connections, says who is signed in, and reloads into a deep link', async () => {
    s = await openConsole();
    const { page, url } = s;
    const seen = await watch(page);
    const document = await page.goto(url);
    expect([document?.status(), document?.headers()['content-security-policy']]).toEqual([200, CONSOLE_CSP]);
    await page.waitForURL(`${url}connections`);
    await page.getByText('Signed in as local admin · Admin').waitFor();

    const deep = await page.goto(`${url}runs/x`);
    expect([deep?.status(), deep?.headers()['content-type'], deep?.headers()['cache-control']]).toEqual([200, 'text/html; charset=utf-8', 'no-store']);
    expect(page.url()).toBe(`${url}runs/x`);
    await page.getByText('Signed in as local admin · Admin').waitFor();
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.waitForURL(`${url}runs`);

    expect(seen.violations).toEqual([]);
    const origin = new URL(url).origin;
    expect(seen.requests.length).toBeGreaterThan(0);
    expect(seen.requests.filter((request) => new URL(request).origin !== origin)).toEqual([]);
  });

  it('keyboard: Tab reaches "Skip to content" first, then every area, and the skip link moves focus to the content', async () => {
    s = await openConsole();
    const { page, url } = s;
    await page.goto(`${url}connections`);
    await page.getByText('Signed in as local admin').waitFor();
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('Skip to content');
    for (const area of NAV) {
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe(area);
    }
    await page.keyboard.press('Enter'); // on Licences: a link followed with the keyboard
    await page.waitForURL(`${url}licences`);

    await page.goto(`${url}connections`);
    await page.getByText('Signed in as local admin').waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('main');
  });

  it('runs under its CSP with no violation and only same-origin requests; accessible at 1280 and 390 px', async () => {
    s = await openConsole();
    const { page, url } = s;
    const seen = await watch(page);
    await page.goto(url);
    await page.waitForURL(`${url}connections`);
    await page.getByText('Signed in as local admin').waitFor();
    await expectAccessible(page, 'the shell at 1280 px');
    await s.screenshot('shell-1280');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}runs/x`);
    await page.getByText('Signed in as local admin').waitFor();
    await expectAccessible(page, 'the shell at 390 px');
    await s.screenshot('shell-390');
    // Nothing wider than the phone's screen: the header wraps instead of scrolling sideways.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    expect(seen.violations).toEqual([]);
    expect(seen.requests.filter((request) => new URL(request).origin !== new URL(url).origin)).toEqual([]);
  });

  it('signed in through Easy Auth: a Reader is named with the role; a person with no role sees whom to ask, and no data', async () => {
    s = await openConsole({ signedInAs: { upn: 'rita@contoso.com', roles: ['UserSync.Reader'] } });
    await s.page.goto(`${s.url}connections`);
    await s.page.getByText('Signed in as rita@contoso.com · Reader').waitFor();
    await s.close();

    s = await openConsole({ signedInAs: { upn: 'nina@contoso.com', roles: [] } });
    const { page, url } = s;
    const seen = await watch(page);
    await page.goto(`${url}connections`);
    await page.getByText('Signed in as nina@contoso.com · no role').waitFor();
    await page.getByRole('heading', { level: 1, name: 'No access yet' }).waitFor();
    await page.getByText('You have no role in User Directory Sync; ask an admin to assign UserSync.Reader or UserSync.Admin').waitFor();
    // The page asked the API who is signed in, and nothing else: no screen loaded data it would be refused.
    expect(seen.requests.filter((request) => new URL(request).pathname.startsWith('/api/'))).toEqual([`${url}api/me`]);
    await expectAccessible(page, 'the no-role notice');
    await s.screenshot('shell-no-role');
  });
});
