/**
 * The console's one way to the app: the same HTTP API scripts and `usersync --url` use (README "HTTP API"),
 * same-origin, signed in by Easy Auth's session cookie in Azure. Every request names the console in
 * `X-UserSync-Client`: a cross-site form cannot send that header, so the API can refuse a forged change.
 */

/** A refusal as the API words it (problem+json): a stable code, a sentence, and for bad input the fields. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  /** Field-level problems of an `input-invalid`/`profile-invalid` answer: the field's path → its message. */
  get fieldProblems(): { field: string; message: string }[] {
    const problems = this.body.problems;
    return Array.isArray(problems)
      ? problems.flatMap((problem: unknown) => {
          if (typeof problem !== 'object' || problem === null) return [];
          const { field, message } = problem as { field?: unknown; message?: unknown };
          return typeof field === 'string' && typeof message === 'string' ? [{ field, message }] : [];
        })
      : [];
  }
}

export const CLIENT_HEADER = 'X-UserSync-Client';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON body (an object), or a file sent as it is (its type as the content type). */
  body?: unknown;
  file?: Blob;
}

/** Sends one request to `/api/{path}` and answers its JSON (or nothing for 204); a refusal throws ApiProblem. */
export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== '') query.set(key, String(value));
  const headers: Record<string, string> = { Accept: 'application/json', [CLIENT_HEADER]: 'console' };
  let body: BodyInit | undefined;
  if (options.file) {
    headers['Content-Type'] = options.file.type || 'text/csv';
    body = options.file;
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const url = `/api/${path}${query.size ? `?${query}` : ''}`;
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body, credentials: 'same-origin', redirect: 'manual' });
  } catch {
    throw new ApiProblem(0, 'api-unreachable', 'The app cannot be reached. Check the network connection, then try again.');
  }
  // Easy Auth sends a signed-out browser to sign in again; a fetch sees that as an opaque redirect or a 401.
  if (response.type === 'opaqueredirect' || response.status === 401) {
    throw new ApiProblem(401, 'signed-out', 'Your session has ended. Reload the page to sign in again.');
  }
  const text = await response.text();
  const json = text ? (safeJson(text) as Record<string, unknown> | undefined) : undefined;
  if (!response.ok) {
    const code = typeof json?.code === 'string' ? json.code : `http-${response.status}`;
    const detail = typeof json?.detail === 'string' ? json.detail : `The app answered ${response.status} ${response.statusText}.`;
    throw new ApiProblem(response.status, code, detail, json ?? {});
  }
  return json as T;
}

/** A path segment, percent-encoded once (the API decodes each segment once). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
