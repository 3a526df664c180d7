import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { Client, GraphError, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import type { SecretResolver } from '../../config/secrets.js';
import type { EntraProfile } from '../../connections/profile.js';
import { AppError, isAppError } from '../../errors/app-error.js';

const CLOUDS = {
  global: { graph: 'https://graph.microsoft.com', authority: 'https://login.microsoftonline.com' },
  usgov: { graph: 'https://graph.microsoft.us', authority: 'https://login.microsoftonline.us' },
  china: { graph: 'https://microsoftgraph.chinacloudapi.cn', authority: 'https://login.chinacloudapi.cn' },
} as const;

/** Graph's largest page. */
export const GRAPH_MAX_PAGE = 999;
/** The SDK honours Retry-After on 503/504; after these retries the page job's own redelivery takes over. */
const RETRIES = 8;
/**
 * A 429 is not retried here: it reaches the page job as `source-throttled`, which makes every chain of the run
 * wait (the SDK's backoff would slow this one request only, while the other chains, on other instances, go on).
 */
const retryOptions = () => new RetryHandlerOptions(1, RETRIES, (_delay, _attempt, _request, _options, response) => response?.status !== 429);
/** What to wait when Graph throttles without saying how long. */
const DEFAULT_THROTTLE_MS = 10_000;

export interface GraphPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

/** The Graph and sign-in endpoints of the profile's national cloud, unless set explicitly. */
export function graphEndpoints(profile: EntraProfile): { graph: string; authority: string } {
  const cloud = CLOUDS[profile.cloud];
  return { graph: (profile.graphBaseUrl ?? cloud.graph).replace(/\/+$/, ''), authority: (profile.authorityHost ?? cloud.authority).replace(/\/+$/, '') };
}

/** Graph clients signed in with the app's own credential (a client secret or a certificate, from an app setting), one per tenant and app. */
export class GraphClients {
  private readonly clients = new Map<string, Client>();

  constructor(private readonly secrets: SecretResolver) {}

  for(profile: EntraProfile): Client {
    const { graph, authority } = graphEndpoints(profile);
    const id = `${profile.tenantId}|${profile.clientId}|${graph}|${authority}|${JSON.stringify(profile.credential)}`;
    let client = this.clients.get(id);
    if (!client) {
      const credential = this.credential(profile, authority);
      client = Client.initWithMiddleware({
        authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [`${graph}/.default`] }),
        baseUrl: graph,
        defaultVersion: 'v1.0',
        // The auth handler only signs requests to known Graph hosts; a sovereign or test host is named here.
        customHosts: new Set([new URL(graph).hostname]),
      });
      this.clients.set(id, client);
    }
    return client;
  }

  private credential(profile: EntraProfile, authorityHost: string): TokenCredential {
    const options = { authorityHost, ...(profile.authorityHost ? { disableInstanceDiscovery: true } : {}) };
    if (profile.credential.kind === 'secret') {
      return new ClientSecretCredential(profile.tenantId, profile.clientId, this.secrets.resolve(profile.credential.secretName), options);
    }
    return new ClientCertificateCredential(profile.tenantId, profile.clientId, { certificate: this.secrets.resolve(profile.credential.certificateSecret) }, options);
  }
}

export async function get<T>(client: Client, url: string, headers: Record<string, string> = {}): Promise<T> {
  return (await client
    .api(url)
    .headers(headers)
    .middlewareOptions([retryOptions()])
    .get()) as T;
}

export async function post<T>(client: Client, url: string, body: unknown): Promise<T> {
  return (await client
    .api(url)
    .middlewareOptions([retryOptions()])
    .post(body)) as T;
}

/** Graph's limit of requests in one JSON batch (`POST /$batch`). */
export const GRAPH_MAX_BATCH = 20;

/** One request's answer in a JSON batch: each succeeds or fails on its own (a 429 carries its own Retry-After). */
export interface BatchAnswer<T> {
  status: number;
  body?: T;
}

/**
 * Up to GRAPH_MAX_BATCH GETs in one round trip (Graph JSON batching); the answers in the order asked. `url` is
 * relative to the version (`/groups/…`), or an absolute `@odata.nextLink` of this client's Graph.
 */
export async function getBatch<T>(client: Client, requests: { url: string; headers?: Record<string, string> }[]): Promise<BatchAnswer<T>[]> {
  const sent = requests.map(({ url, headers }, index) => ({ id: String(index), method: 'GET', url: versionRelative(url), ...(headers ? { headers } : {}) }));
  const { responses } = await post<{ responses: (BatchAnswer<T> & { id: string })[] }>(client, '/$batch', { requests: sent });
  // Graph answers in any order; a request it did not answer at all reads as a failure of its own.
  const byId = new Map(responses.map((answer) => [answer.id, answer]));
  return sent.map(({ id }) => byId.get(id) ?? { status: 0 });
}

/** `https://graph…/v1.0/groups/…?…` → `/groups/…?…`: a batch names its requests relative to the version. */
function versionRelative(url: string): string {
  if (url.startsWith('/')) return url;
  const { pathname, search } = new URL(url);
  return `${pathname.replace(/^\/(v1\.0|beta)(?=\/)/, '')}${search}`;
}

/** Whether Graph answered `status` (e.g. 404 for an object that is gone). */
export function isGraphStatus(error: unknown, status: number): error is GraphError {
  return error instanceof GraphError && error.statusCode === status;
}

/** Graph and sign-in failures as errors an admin can act on; never the secret, only what was refused. */
export function graphFailure(error: unknown, profile: EntraProfile): AppError {
  if (isAppError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : '';
  // A sign-in failure reaches us from the credential, or wrapped by the Graph client (status -1).
  const code = /AADSTS\d+/.exec(message)?.[0];
  const tenantUnknown = /endpoints_resolution_error/.test(message);
  if (code || tenantUnknown || ['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError'].includes(name)) {
    const hint = tenantUnknown
      ? 'the tenant was not found (or its sign-in endpoint cannot be reached)'
      : code === 'AADSTS7000215'
        ? 'the client secret is wrong or expired'
        : code === 'AADSTS700016'
          ? 'the application (client) id is not registered in this tenant'
          : code === 'AADSTS90002'
            ? 'the tenant was not found'
            : 'sign-in failed';
    return new AppError('source-auth-failed', `Could not sign in to tenant ${profile.tenantId}: ${hint}${code ? ` (${code})` : ''}.`);
  }
  if (error instanceof GraphError && error.statusCode > 0) {
    const status = error.statusCode;
    if (status === 429) {
      const retryAfterMs = retryAfterMsOf(error.headers?.get('retry-after'));
      return new AppError('source-throttled', `Microsoft Graph is throttling tenant ${profile.tenantId} (HTTP 429, wait ${Math.ceil(retryAfterMs / 1000)} s).`, { transient: true, details: { retryAfterMs } });
    }
    const what = `${error.code ?? 'error'}: ${error.message}`;
    if (status === 401 || status === 403) {
      return new AppError('source-auth-failed', `Microsoft Graph refused the request (${what}). Grant the app admin consent for User.Read.All, Group.Read.All and GroupMember.Read.All.`);
    }
    if (status === 404) return new AppError('source-not-found', `Microsoft Graph has no such object in tenant ${profile.tenantId} (${what}); check the selected group ids.`);
    return new AppError('source-unavailable', `Microsoft Graph answered HTTP ${status} (${what}).`, { transient: status === 429 || status >= 500 });
  }
  return new AppError('source-unavailable', `Could not reach Microsoft Graph: ${message}`, { transient: true });
}

/** Retry-After as seconds or an HTTP date. */
function retryAfterMsOf(header: string | null | undefined): number {
  if (!header) return DEFAULT_THROTTLE_MS;
  const ms = /^\d+$/.test(header.trim()) ? Number(header) * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : DEFAULT_THROTTLE_MS;
}
