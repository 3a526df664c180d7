import { Readable } from 'node:stream';
import type { FileAnswer } from '../admin/operation.js';
import { z } from 'zod';
import { AppError, type ErrorCode } from '../errors/app-error.js';
import { CLIENT_HEADER } from '../http/csrf.js';
import type { EntraTokens } from './entra-tokens.js';
import type { RemoteSettings } from './remote-settings.js';

/** One request to the API, made from an operation and its input (http-admin-client.ts). */
export interface RemoteRequest {
  method: string;
  /** Under /api, each segment already percent-encoded: `connections/HR%20export/sync`. */
  path: string;
  query: URLSearchParams;
  body?: { contentType: string; content: string | Readable };
  /** Named in a refusal: the operation asked for and the role it needs. */
  operation: string;
  role: string;
  /** The answer is a document (an export), not JSON: it comes back as a FileAnswer. */
  file?: boolean;
}

/** Socket and TLS failures: the app was not reached at all (undici's `cause.code`). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);
const TLS_FAILURE = /CERT|SSL|TLS|SELF_SIGNED/;

/** What the API answers with an error (shared/http/problem.ts); anything else is not the API speaking. */
const problemSchema = z.looseObject({ code: z.string().regex(/^[a-z0-9-]+$/), detail: z.string() });

/**
 * The deployed app's HTTP API as the CLI reaches it: a Microsoft Entra token for Easy Auth when a scope is
 * set, the function key when one is, and every answer turned into the operation's JSON or the AppError
 * the app sent (same code and sentence, so the CLI prints what it prints locally). Failures that are not the
 * app's say what to do: sign in, ask for a role, fix the key or the address. Redirects are not followed:
 * the key and the token go to the address given and nowhere else.
 */
export class RemoteApi {
  constructor(
    private readonly settings: RemoteSettings,
    private readonly tokens: EntraTokens | undefined,
  ) {}

  async send(request: RemoteRequest): Promise<unknown> {
    const url = new URL(request.path, this.settings.api);
    url.search = request.query.toString();
    // X-UserSync-Client: a change without a bearer token (the local host needs none) must say it is no browser form.
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'user-agent': 'usersync-cli', [CLIENT_HEADER]: 'cli' };
    if (this.tokens) headers.authorization = await this.tokens.authorization();
    if (this.settings.functionKey) headers['x-functions-key'] = this.settings.functionKey;
    if (request.body) headers['content-type'] = request.body.contentType;
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method,
        headers,
        redirect: 'manual',
        ...(request.body ? { body: request.body.content, duplex: 'half' } : {}),
      });
    } catch (error) {
      throw this.unreached(error);
    }
    return this.answerOf(response, request);
  }

  /**
   * A request that never got an answer (fetch's TypeError says why in its `cause`). A failure of our own — a
   * file to upload that cannot be read (ENOENT…) — passes as it is, as it would locally.
   */
  private unreached(error: unknown): unknown {
    const cause = error instanceof TypeError && error.cause instanceof Error ? (error.cause as Error & { code?: unknown }) : undefined;
    if (!cause) return error;
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    const { app } = this.settings;
    const hint = this.settings.api.protocol === 'http:' ? 'is the local host running? Start it with `npm start`.' : 'check the address (--url, USERSYNC_URL) and the network.';
    if (code === undefined) return new AppError('api-unreachable', `Cannot reach the app at ${app} (${cause.message}) — ${hint}`);
    if (TLS_FAILURE.test(code)) return new AppError('api-unreachable', `Cannot reach the app at ${app}: its TLS certificate is not trusted here (${code}).`);
    if (UNREACHABLE.has(code)) return new AppError('api-unreachable', `Cannot reach the app at ${app} (${code}) — ${hint}`);
    return cause;
  }

  private async answerOf(response: Response, request: RemoteRequest): Promise<unknown> {
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    if (response.status >= 200 && response.status < 300) {
      // An export is the document itself; an HTML page in place of JSON is some other site answering.
      if (request.file && !/\bhtml\b/i.test(type)) return fileAnswer(response, type, text);
      if (!text) return undefined;
      if (!/[/+]json\b/i.test(type)) throw this.notTheApi(response);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw this.notTheApi(response);
      }
    }
    const problem = /[/+]json\b/i.test(type) ? problemSchema.safeParse(parsedOrUndefined(text)) : undefined;
    if (problem?.success) {
      const { code, detail, type: _type, title: _title, status: _status, ...details } = problem.data;
      // The app's own codes: one this CLI does not know yet (a newer app) prints as it came.
      throw new AppError(code as ErrorCode, detail, Object.keys(details).length ? { details } : {});
    }
    throw this.refusal(response, request);
  }

  /** An error that is not the API's problem+json: the platform in front of the app answered (Easy Auth, the Functions host, the front end). */
  private refusal(response: Response, request: RemoteRequest): AppError {
    const { app } = this.settings;
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (response.status === 401) {
      // Easy Auth challenges for a token; the Functions host refuses a missing or wrong key without one.
      const challenged = /^\s*Bearer\b/i.test(response.headers.get('www-authenticate') ?? '');
      if (!challenged && this.settings.functionKey) {
        return new AppError('function-key-refused', `The app at ${app} refused the function key in USERSYNC_FUNCTION_KEY (${status}): set it to one of the app's keys.`);
      }
      if (!challenged && !this.tokens) {
        return new AppError('sign-in-required', `The app at ${app} refused the request (${status}): it needs a function key (USERSYNC_FUNCTION_KEY) or a token (USERSYNC_API_SCOPE, then \`az login\`).`);
      }
      const scope = this.tokens ? ` for ${this.settings.scope}` : '';
      return new AppError('sign-in-required', `Sign in: \`az login\` (then try again) — the app at ${app} refused the request without a valid token${scope} (${status}).`);
    }
    if (isSignInRedirect(response)) {
      // Easy Auth sends a request without a token to the sign-in page, as it does a browser (the console's).
      const how = this.tokens ? '' : ' with USERSYNC_API_SCOPE (or --scope) set, so that the CLI sends a token';
      return new AppError('sign-in-required', `Sign in: \`az login\` (then try again${how}) — the app at ${app} sent the request to its sign-in page (${status}).`);
    }
    if (response.status === 403) {
      return new AppError('forbidden', `The app at ${app} refused ${request.operation} (${status}): your account lacks the ${request.role} role on this app — ask an admin to assign it.`, {
        details: { role: request.role },
      });
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      return new AppError('api-unavailable', `The app at ${app} answered ${status}: it may be starting, scaling or overloaded; try again in a minute, or see its logs.`);
    }
    return this.notTheApi(response);
  }

  private notTheApi(response: Response): AppError {
    const moved = response.headers.get('location');
    const where = moved && URL.canParse(moved, this.settings.api.href) ? `, sending to ${new URL(moved, this.settings.api).host}` : '';
    return new AppError(
      'api-answer-invalid',
      `${this.settings.app} answered ${response.status}${where}, not as the usersync API answers: check the app's address (--url, USERSYNC_URL; azd env get-value USERSYNC_URL).`,
    );
  }
}

/** A redirect to Easy Auth's sign-in page (`/.auth/login/aad?post_login_redirect_uri=…`). */
function isSignInRedirect(response: Response): boolean {
  const location = response.headers.get('location');
  if (response.status < 300 || response.status > 399 || !location || !URL.canParse(location, 'https://app.invalid')) return false;
  return new URL(location, 'https://app.invalid').pathname.toLowerCase().startsWith('/.auth/login/');
}

function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A downloaded export as the local client answers it: its name (from Content-Disposition), its type, its content. */
function fileAnswer(response: Response, contentType: string, text: string): FileAnswer {
  const disposition = response.headers.get('content-disposition') ?? '';
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  const filename = encoded ? decodeURIComponent(encoded) : (/filename="([^"]*)"/i.exec(disposition)?.[1] ?? 'export');
  return { filename, contentType, content: Readable.from([text]) };
}
