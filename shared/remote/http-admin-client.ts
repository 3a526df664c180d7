import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdminClient, WaitOptions } from '../admin/client.js';
import type { Operation } from '../admin/operation.js';
import { OPERATIONS, type InputOf, type OperationName, type OutputOf } from '../admin/operations.js';
import { isTerminal, type RunView } from '../admin/views.js';
import { AppError, isAppError } from '../errors/app-error.js';
import { EntraTokens, type TokenCredential } from './entra-tokens.js';
import { RemoteApi, type RemoteRequest } from './remote-api.js';
import type { RemoteSettings } from './remote-settings.js';

/** How `waitForRun` looks at a run: soon at first, then less often; a few failed looks in a row are borne. */
export interface Polling {
  firstMs: number;
  maxMs: number;
  /** Consecutive failures to reach the app (a network blip, a restart) tolerated while waiting. */
  retries: number;
}

const POLLING: Polling = { firstMs: 250, maxMs: 2000, retries: 5 };

/** Failures worth another look while waiting on a run: the app was there a moment ago. */
const TRANSIENT: ReadonlySet<string> = new Set(['api-unreachable', 'api-unavailable']);

/**
 * The admin core of a deployed app, through its HTTP API: the CLI's `--url` mode. Every operation is sent as
 * its route in the operations table declares it (path fields, query, body), so an operation added to the
 * table works here without a change; the app answers with the same JSON the local client returns, and
 * refuses with the same AppError.
 */
export class HttpAdminClient implements AdminClient {
  constructor(
    private readonly api: RemoteApi,
    private readonly operations: Readonly<Record<string, Operation>> = OPERATIONS,
    private readonly polling: Polling = POLLING,
  ) {}

  async call<K extends OperationName>(name: K, input: InputOf<K>): Promise<OutputOf<K>> {
    return (await this.send(name, input)) as OutputOf<K>;
  }

  /** Looks at `GET /runs/{id}` until the run has ended; the app's host works the run meanwhile. */
  async waitForRun(runId: string, { onProgress }: WaitOptions = {}): Promise<RunView> {
    let failures = 0;
    for (let delay = this.polling.firstMs; ; delay = Math.min(delay * 2, this.polling.maxMs)) {
      let run: RunView | undefined;
      try {
        run = await this.call('runs.get', { id: runId });
        failures = 0;
      } catch (error) {
        if (!(isAppError(error) && TRANSIENT.has(error.code)) || ++failures > this.polling.retries) throw error;
      }
      if (run) {
        onProgress?.(run);
        if (isTerminal(run.state)) return run;
      }
      await sleep(delay);
    }
  }

  private async send(name: string, input: object): Promise<unknown> {
    const operation = this.operations[name];
    if (!operation) throw new AppError('not-found', `There is no operation ${name}.`);
    return this.api.send(requestOf(name, operation, input as Record<string, unknown>));
  }
}

/**
 * An operation's input as its request: each `:field` of the path percent-encoded once (the API decodes each
 * segment once), the query fields as text (`true`/`false`, digits), the rest as the body the route reads.
 */
export function requestOf(name: string, { http, role }: Operation, input: Record<string, unknown>): RemoteRequest {
  const taken = new Set<string>();
  const path = http.path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment;
      const field = segment.slice(1);
      taken.add(field);
      const value = input[field];
      // An empty segment would vanish from the path and name another route.
      if (value === undefined || value === '') {
        throw new AppError('input-invalid', `The input is invalid: ${field}: required, it names what /api/${http.path} acts on.`, { details: { problems: [{ field, message: 'required' }] } });
      }
      return encodeURIComponent(String(value));
    })
    .join('/');
  const query = new URLSearchParams();
  for (const field of http.query ?? []) {
    taken.add(field);
    if (input[field] !== undefined) query.set(field, String(input[field]));
  }
  // The parameters that pick this operation over another on the same route (`format=csv`).
  for (const [key, value] of Object.entries(http.select ?? {})) query.set(key, value);
  const request: RemoteRequest = { method: http.method, path, query, operation: name, role, ...(http.file ? { file: true } : {}) };
  const body = http.body;
  if (body === 'fields') {
    const fields = Object.fromEntries(Object.entries(input).filter(([field]) => !taken.has(field)));
    return { ...request, body: { contentType: 'application/json', content: JSON.stringify(fields) } };
  }
  if (body && 'json' in body) return { ...request, body: { contentType: 'application/json', content: JSON.stringify(input[body.json]) } };
  if (body) {
    const content = input[body.stream];
    if (!(content instanceof Readable)) throw new AppError('input-invalid', `The input is invalid: ${body.stream}: must be a stream to upload.`);
    return { ...request, body: { contentType: body.contentTypes[0] ?? 'application/octet-stream', content } };
  }
  return request;
}

export interface RemoteClientOptions {
  /** Who signs in; DefaultAzureCredential (`az login`…) unless given. */
  credential?: TokenCredential;
  polling?: Polling;
}

/** The CLI's client of the app `settings` name: a token for its scope (when set) and its function key (when set). */
export function remoteAdminClient(settings: RemoteSettings, options: RemoteClientOptions = {}): AdminClient {
  const { credential } = options;
  const tokens = settings.scope === undefined ? undefined : new EntraTokens(settings.scope, ...(credential ? [async () => credential] : []));
  return new HttpAdminClient(new RemoteApi(settings, tokens), OPERATIONS, options.polling);
}
