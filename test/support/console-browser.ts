import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { expect } from 'vitest';
import { functionDefinitions } from '../../functions/registry.js';
import { isHttpFunction, isQueueFunction } from '../../shared/app/registry.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { browserSession } from './easy-auth.js';
import { createTestApp, type TestApp } from './test-app.js';

/**
 * The console in a real browser (Debian's Chromium driven by Playwright) on the real app: the local host on
 * Azurite serving the console at its root and the API under /api — as `npm start` and Azure serve them, with
 * the same headers (CSP…) — and working its queues as `npm start` does.
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
  /**
   * From the next request on, another person is signed in (a session opened with `signedInAs` only): what the
   * page offers a Reader, and what the API refuses them, on the same app and data.
   */
  signIn(who: { upn: string; roles: string[] }): Promise<void>;
  close(): Promise<void>;
}

let built: Promise<string> | undefined;

/** The console built once per test file, into a folder of its own (never the worktree's dist/console). */
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
   * A person signed in through Easy Auth, with these app roles (`[]`: none), instead of the local host's admin:
   * the app trusts Easy Auth's principal (WEBSITE_AUTH_ENABLED=True) and the browser sends it, as Easy Auth
   * would add it in front of the app (test/support/easy-auth.ts). For a Reader's view, or no role's.
   */
  signedInAs?: { upn: string; roles: string[] };
}

/** Starts the app and opens the console in a fresh browser; close() stops both. */
export async function openConsole(options: OpenOptions = {}): Promise<ConsoleSession> {
  const { signedInAs } = options;
  const env = { ...options.env, ...(signedInAs ? { WEBSITE_AUTH_ENABLED: 'True' } : {}) };
  const [t, consoleFolder] = await Promise.all([createTestApp(env), consoleBuild()]);
  const definitions = functionDefinitions(t.app, { localHost: !signedInAs, consoleFolder });
  const hostOptions = { connectionString: t.env.AzureWebJobsStorage!, pollIntervalMs: 20, queues: { maxPollingIntervalMs: 100 }, log: () => undefined };
  const http = new LocalHost(definitions.filter(isHttpFunction), { ...hostOptions, httpPort: 0 });
  const queues = new LocalHost(definitions.filter(isQueueFunction), hostOptions);
  await http.start();
  await queues.start();
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM });
  const page = await browser.newPage({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    ...(signedInAs ? { extraHTTPHeaders: browserSession(signedInAs.upn, signedInAs.roles) } : {}),
  });
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return {
    t,
    page,
    url: `${http.httpUrl}/`,
    screenshot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    signIn: async (who) => {
      if (!signedInAs) throw new Error('signIn: open the console with signedInAs (the local host makes every caller its admin)');
      await page.setExtraHTTPHeaders(browserSession(who.upn, who.roles));
    },
    close: async () => {
      await browser.close();
      await queues.stop();
      await http.stop();
    },
  };
}

/** axe-core's source, run in the page by evaluating it: a script tag from elsewhere would break the console's CSP. */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core on what the page shows now and fails listing each serious or critical violation (rule, what it
 * asks, where), `name` saying which screen.
 */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  // globalThis is the page's window there (this tsconfig has no DOM types).
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const { axe } = globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } };
    return (await axe.run()).violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map(({ target }) => ({ target })) }));
  });
  const serious = violations
    .filter(({ impact }) => impact === 'serious' || impact === 'critical')
    .map(({ id, impact, help, nodes }) => `${impact} ${id}: ${help} — ${nodes.map(({ target }) => target.join(' ')).join(', ')}`);
  expect(serious, `accessibility of ${name}`).toEqual([]);
}
