import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { AppError, type AppErrorOptions, type ErrorCode } from '../../shared/errors/app-error.js';
import { problemOf } from '../../shared/http/problem.js';

/**
 * Whatever stands at the address `usersync --url` is given — Easy Auth, the Functions host, a front end, the
 * API — answering as a test says, and recording what it was sent (headers, the raw path, the body).
 */
export interface StubRequest {
  method: string;
  /** As sent: still percent-encoded, with the query. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface StubAnswer {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: string | object;
}

export interface ApiStub {
  /** The base address, as `--url` takes it. */
  url: string;
  requests: StubRequest[];
  close(): Promise<void>;
}

export async function startApiStub(answer: (request: StubRequest) => StubAnswer, options: { tls?: { cert: string; key: string } } = {}): Promise<ApiStub> {
  const requests: StubRequest[] = [];
  const handle: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(request);
      const { status, headers = {}, body } = answer(request);
      const json = typeof body === 'object';
      res.writeHead(status, { ...(json ? { 'content-type': 'application/json' } : {}), ...headers });
      res.end(json ? JSON.stringify(body) : body);
    });
  };
  const server = options.tls ? https.createServer(options.tls, handle) : http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The API's own refusal, made by the code that makes it in the app (shared/http/problem.ts). */
export function problem(code: ErrorCode, message: string, options?: AppErrorOptions): StubAnswer {
  const { status, headers, jsonBody } = problemOf(new AppError(code, message, options));
  return { status, ...(headers ? { headers } : {}), body: JSON.stringify(jsonBody) };
}
