import { CLIENT_HEADER } from '../../shared/http/csrf.js';
import { LocalHost, type LocalHostOptions } from '../../shared/host/local-host.js';
import { createTestApp, type TestApp } from './test-app.js';

export interface ApiHost {
  t: TestApp;
  host: LocalHost;
  /** A script's request to `/api/{path}` (path as sent: encode it yourself), with X-UserSync-Client as the README says. */
  api(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** fetch as a script calls the API: naming itself in X-UserSync-Client, which a change needs (shared/http/csrf.ts). */
export function scriptFetch(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has(CLIENT_HEADER)) headers.set(CLIENT_HEADER, 'test');
  return fetch(url, { ...init, headers });
}

/** The real app on Azurite under a fresh prefix, served by the local host: a test's own API. */
export async function startApiHost(env: Record<string, string> = {}, options: Partial<LocalHostOptions> = {}): Promise<ApiHost> {
  const t = await createTestApp(env);
  const host = new LocalHost(t.definitions, {
    connectionString: t.env.AzureWebJobsStorage!,
    httpPort: 0,
    pollIntervalMs: 20,
    queues: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 200 },
    log: () => undefined,
    ...options,
  });
  await host.start();
  return { t, host, api: (path, init) => scriptFetch(`${host.httpUrl}/api/${path}`, init), stop: () => host.stop() };
}

export function jsonRequest(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
