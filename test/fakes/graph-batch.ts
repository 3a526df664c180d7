import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/**
 * Graph JSON batching for the fake (`POST /v1.0/$batch`): up to 20 requests in one, each answered on its own as
 * if sent alone (status, headers, body — a 429 with its own Retry-After). The server passes `answer`, which
 * routes one request through its own handlers, faults and permission checks.
 */

/** Graph's limit of requests in one batch. */
export const MAX_BATCH = 20;

export interface BatchRequest {
  id: string;
  method: string;
  /** Relative to the version (`/groups/…` or `groups/…`). */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface BatchAnswer {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** What a handler wrote, captured from a stand-in response. */
interface Captured {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** The batch's requests, or the sentence of Graph's 400 for a body that is not one. */
export function parseBatch(text: string): BatchRequest[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.';
  }
  const requests = parsed && typeof parsed === 'object' ? (parsed as { requests?: unknown }).requests : undefined;
  if (!Array.isArray(requests) || requests.length === 0) return "The batch request body must have a non-empty 'requests' array.";
  if (requests.length > MAX_BATCH) return 'Number of requests inside batch exceeds the limit.';
  const valid = requests.every((request: Partial<BatchRequest>) => typeof request.id === 'string' && typeof request.method === 'string' && typeof request.url === 'string');
  if (!valid) return "Each request of a batch needs an 'id', a 'method' and a 'url'.";
  const ids = requests.map((request: BatchRequest) => request.id);
  if (new Set(ids).size !== ids.length) return 'Request ids in a batch must be unique.';
  return requests as BatchRequest[];
}

/**
 * Answers each request in turn through `answer` (given a stand-in request under `/v1.0`, carrying the batch's
 * authorization, and a response that captures what the handler writes).
 */
export async function answerBatch(
  requests: BatchRequest[],
  authorization: string | undefined,
  answer: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
): Promise<BatchAnswer[]> {
  const answers: BatchAnswer[] = [];
  for (const sub of requests) {
    const headers = Object.fromEntries(Object.entries(sub.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    const body = sub.body === undefined ? [] : [Buffer.from(typeof sub.body === 'string' ? sub.body : JSON.stringify(sub.body))];
    const request = Object.assign(Readable.from(body), {
      method: sub.method.toUpperCase(),
      url: underVersion(sub.url),
      headers: { ...headers, ...(authorization ? { authorization } : {}), ...(sub.body === undefined ? {} : { 'content-type': 'application/json' }) },
    }) as unknown as IncomingMessage;
    const captured: Captured = { status: 0, headers: {}, text: '' };
    const response = {
      writeHead(status: number, written: Record<string, string>) {
        captured.status = status;
        captured.headers = written;
        return response;
      },
      end(text: string) {
        captured.text = text;
        return response;
      },
    } as unknown as ServerResponse;
    await answer(request, response);
    answers.push({ id: sub.id, status: captured.status, headers: captured.headers, ...(captured.text ? { body: JSON.parse(captured.text) as unknown } : {}) });
  }
  return answers;
}

/** A batch's request URL as the path it stands for (`/v1.0/…?…`), as the request log shows paths. */
export function underVersion(url: string): string {
  return `/v1.0${url.startsWith('/') ? '' : '/'}${url}`;
}
