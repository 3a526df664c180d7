import { LocalHost, type LocalHostOptions } from '../../shared/host/local-host.js';
import { createTestApp, type TestApp } from './test-app.js';

export interface ApiHost {
  t: TestApp;
  host: LocalHost;
  /** A request to `/api/{path}` (path as sent: encode it yourself). */
  api(path: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
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
  return { t, host, api: (path, init) => fetch(`${host.httpUrl}/api/${path}`, init), stop: () => host.stop() };
}

export function jsonRequest(method: string, body: unknown): RequestInit {
  return { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
