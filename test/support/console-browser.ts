import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { functionDefinitions } from '../../functions/registry.js';
import type { Role } from '../../shared/admin/operation.js';
import { isHttpFunction, isQueueFunction } from '../../shared/app/registry.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { createTestApp, type TestApp } from './test-app.js';

/**
 * The console in a real browser (Debian's Chromium driven by Playwright) on the real app: the local host
 * on Azurite serving the API, its queues worked as `npm start` works them.
 */

/** Where the end-to-end tests leave a screenshot of each screen (README, "Web console"). */
export const SCREENSHOT_DIR = 'test-results/console';
const CHROMIUM = '/usr/bin/chromium';

export interface ConsoleSession {
  t: TestApp;
  page: Page;
  /** The console's address, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** Saves a screenshot of the page as SCREENSHOT_DIR/<name>.png. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

let built: Promise<string> | undefined;

/** The console built once per test file, into a folder of its own. */
function consoleBuild(): Promise<string> {
  built ??= (async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'usersync-console-'));
    await build({ configFile: 'console/vite.config.ts', logLevel: 'error', build: { outDir, emptyOutDir: true } });
    return outDir;
  })();
  return built;
}

export interface OpenOptions {
  /** App settings for the app under test. */
  env?: Record<string, string>;
  /** Browser viewport; 1280 × 800 unless given. */
  viewport?: { width: number; height: number };
  /**
   * Signed in as this person through Easy Auth, as in Azure (the app trusts the `x-ms-client-principal` the
   * browser's requests carry: WEBSITE_AUTH_ENABLED=True), instead of as the local host's admin: e.g. a Reader.
   */
  signedInAs?: { upn: string; roles: Role[] };
}

/** What Easy Auth passes the app for a signed-in person: their token's claims (base64 JSON) and their name. */
function easyAuthHeaders({ upn, roles }: { upn: string; roles: Role[] }): Record<string, string> {
  const roleType = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
  const claims = [
    { typ: 'http://schemas.microsoft.com/identity/claims/scope', val: 'user_impersonation' },
    { typ: 'preferred_username', val: upn },
    ...roles.map((role) => ({ typ: roleType, val: role })),
  ];
  const principal = { auth_typ: 'aad', claims, role_typ: roleType };
  return { 'x-ms-client-principal': Buffer.from(JSON.stringify(principal)).toString('base64'), 'x-ms-client-principal-name': upn };
}

/**
 * Until the app answers GET /api/me itself (issue 15, part A: `session.me`), the console learns who is signed
 * in from this stand-in — used only while the app answers 404 there, so the app's own answer wins once it has one.
 */
async function standInForMe(page: Page, signedInAs: OpenOptions['signedInAs']): Promise<void> {
  const me = signedInAs ? { actor: `user:${signedInAs.upn}`, name: signedInAs.upn, roles: signedInAs.roles } : { actor: 'api', name: 'local admin', roles: ['UserSync.Admin'] };
  await page.route('**/api/me', async (route) => {
    const response = await route.fetch();
    await (response.status() === 404 ? route.fulfill({ json: me }) : route.fulfill({ response }));
  });
}

/** Starts the app and opens the console in a fresh browser; close() stops both. */
export async function openConsole(options: OpenOptions = {}): Promise<ConsoleSession> {
  const { signedInAs } = options;
  const t = await createTestApp({ ...(signedInAs ? { WEBSITE_AUTH_ENABLED: 'True' } : {}), ...options.env });
  const hostOptions = { connectionString: t.env.AzureWebJobsStorage!, pollIntervalMs: 20, queues: { maxPollingIntervalMs: 100 }, log: () => undefined };
  // Signed in through Easy Auth, the API believes the principal; else the local host's callers are admins.
  const httpDefinitions = signedInAs ? functionDefinitions(t.app) : t.definitions;
  const http = new LocalHost(httpDefinitions.filter(isHttpFunction), { ...hostOptions, httpPort: 0 });
  const queues = new LocalHost(t.definitions.filter(isQueueFunction), hostOptions);
  await http.start();
  await queues.start();
  const server: PreviewServer = await preview({
    configFile: 'console/vite.config.ts',
    logLevel: 'error',
    build: { outDir: await consoleBuild() },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, proxy: { '/api': http.httpUrl } },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the console preview server did not start');
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM });
  const page = await browser.newPage({ viewport: options.viewport ?? { width: 1280, height: 800 }, ...(signedInAs ? { extraHTTPHeaders: easyAuthHeaders(signedInAs) } : {}) });
  await standInForMe(page, signedInAs);
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return {
    t,
    page,
    url,
    screenshot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await browser.close();
      await server.close();
      await queues.stop();
      await http.stop();
    },
  };
}
