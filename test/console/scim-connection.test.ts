import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, openConsole, type ConsoleSession } from '../support/console-browser.js';

/** A SCIM connection set up from the browser: its form draws (it has its own field order), and it offers no run. */
describe('an admin adds a SCIM connection from the browser', () => {
  let s: ConsoleSession;
  beforeAll(async () => {
    s = await openConsole({ env: { ENTRA_SCIM_TOKEN: 'scim-token-value' } });
  });
  afterAll(() => s.close());

  it('fills the form, saves, tests it (the endpoint and the token setting), and is offered no sync', async () => {
    const { page } = s;
    await page.goto(`${s.url}connections`);
    await page.getByRole('link', { name: 'Add a SCIM (pushed) connection' }).click();
    await page.getByRole('textbox', { name: 'Name*', exact: true }).fill('Entra push');
    await page.getByRole('textbox', { name: 'Bearer token setting*' }).fill('ENTRA_SCIM_TOKEN');
    await expectAccessible(page, 'connections-form-scim');
    await page.getByRole('button', { name: 'Save connection' }).click();

    await page.getByRole('heading', { name: 'Entra push', level: 1 }).waitFor();
    expect((await s.t.app.deps.connections.get('Entra push'))?.profile).toEqual({
      name: 'Entra push',
      type: 'scim',
      enabled: true,
      tokenSecret: 'ENTRA_SCIM_TOKEN',
      attributeMap: {},
      groups: { mode: 'off', keepLocalGroups: false },
      orgChart: true,
    });
    await page.getByText('Pushed over SCIM as changes happen').waitFor();
    expect(await page.getByRole('button', { name: 'Sync now' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Dry run' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText(/receives its users over SCIM at \/scim\/v2\/Entra%20push/).waitFor();
    expect(await page.content()).not.toContain('scim-token-value');
  });
});
