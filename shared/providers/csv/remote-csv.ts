import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { SecretResolver } from '../../config/secrets.js';
import type { CsvProfile } from '../../connections/profile.js';
import { AppError } from '../../errors/app-error.js';

type RemoteSource = Extract<CsvProfile['source'], { kind: 'https' }>;

const TIMEOUT_MS = 120_000;

/**
 * Opens a CSV file an HR system publishes over HTTPS with basic authentication. Plain http is
 * refused unless the test-only setting allows it. Errors name the URL's host and the status, never
 * the credentials.
 */
export async function openRemoteCsv(
  source: RemoteSource,
  options: { secrets: SecretResolver; allowInsecureHttp: boolean },
): Promise<Readable> {
  const url = new URL(source.url);
  if (url.protocol !== 'https:' && !options.allowInsecureHttp) {
    throw new AppError('source-insecure-url', `The CSV URL must use https:// (got ${url.protocol}//${url.host}); credentials would travel in clear.`);
  }
  const headers: Record<string, string> = { accept: 'text/csv, text/plain, */*' };
  if (source.username !== undefined || source.passwordSecret !== undefined) {
    const password = source.passwordSecret ? options.secrets.resolve(source.passwordSecret) : '';
    headers.authorization = `Basic ${Buffer.from(`${source.username ?? ''}:${password}`).toString('base64')}`;
  }
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'follow' });
  } catch (error) {
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    throw new AppError('source-unavailable', `Could not reach ${url.host} for the CSV file: ${reason}.`, undefined, true);
  }
  if (response.status === 401 || response.status === 403) {
    throw new AppError('source-auth-failed', `${url.host} refused the CSV download (HTTP ${response.status}); check the username and the password setting.`);
  }
  if (response.status === 404) throw new AppError('source-not-found', `${url.host} has no CSV file at ${url.pathname} (HTTP 404).`);
  if (!response.ok || !response.body) {
    const transient = response.status === 429 || response.status >= 500;
    throw new AppError('source-unavailable', `${url.host} answered HTTP ${response.status} to the CSV download.`, undefined, transient);
  }
  return Readable.fromWeb(response.body as ReadableStream<Uint8Array>);
}
