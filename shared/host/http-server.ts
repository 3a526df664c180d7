import http from 'node:http';
// Default import: see invocations.ts (the library's classes are not named exports in Node ESM).
import azureFunctions from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import type { HttpFunction } from '../app/registry.js';
import { AppError, isAppError } from '../errors/app-error.js';
import { internalError, problemOf, type ApiResponse } from '../http/problem.js';
import { compileRoute, matchRoutes, type CompiledRoute } from './http-routes.js';
import { errorMessage, type Invocations } from './invocations.js';

const MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024; // Azure Functions' own request size limit

export interface HttpServerOptions {
  /** Listens on 127.0.0.1 only; 0 = a free port. */
  port: number;
  /** Largest request body accepted (413 above it); default Azure Functions' 100 MB. */
  maxRequestBodyBytes: number | undefined;
  /** host.json's `extensions.http.routePrefix` (host-json.ts): what every route is under. */
  routePrefix: string;
  invocations: Invocations;
  emit: (line: string) => void;
}

/**
 * The HTTP triggers on a local port, as the Functions host serves them: route and method picked, the body
 * read up to the size limit, the handler's answer sent as the library would send it. The host's own
 * answers (404, 405, 413, a malformed path) and a handler that throws are problem+json, in the API's shape.
 */
export class HttpServer {
  private readonly routes: CompiledRoute[];
  private server: http.Server | undefined;

  /** Throws for a route template the local host cannot route, before anything listens. */
  constructor(
    definitions: HttpFunction[],
    private readonly options: HttpServerOptions,
  ) {
    this.routes = definitions.map(compileRoute);
  }

  async listen(): Promise<void> {
    this.server = await new Promise<http.Server>((resolve, reject) => {
      const server = http.createServer((req, res) => void this.options.invocations.track(this.handle(req, res)));
      server.once('error', reject);
      server.listen(this.options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  /** Base URL, without a trailing slash (routes live under host.json's routePrefix). */
  get url(): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('LocalHost: no HTTP server is listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Stops accepting connections, waits for `drain` (the work in flight), then closes the idle keep-alive ones. */
  async close(drain: () => Promise<void>): Promise<void> {
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await drain();
    server?.closeAllConnections();
    await closed;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
      const method = (req.method ?? 'GET').toUpperCase();
      const matches = matchRoutes(this.routes, url.pathname, this.options.routePrefix);
      if (matches.length === 0) throw new AppError('not-found', `No function is registered for ${url.pathname}.`);
      const match = matches.find((m) => (m.route.def.trigger.methods as string[]).includes(method));
      if (!match) {
        const allow = [...new Set(matches.flatMap((m) => m.route.def.trigger.methods))].join(', ');
        throw new AppError('method-not-allowed', `Use ${allow} for ${url.pathname}.`, { details: { allow } });
      }
      // As the Functions host: a declared length over the limit is refused before a byte of the body is read.
      const limit = this.options.maxRequestBodyBytes ?? MAX_REQUEST_BODY_BYTES;
      const body = Number(req.headers['content-length'] ?? 0) > limit ? undefined : await readBody(req, limit);
      if (body === undefined) {
        req.resume(); // the rest is read and dropped, never held
        throw new AppError('body-too-large', `The request body is larger than ${limit} bytes.`);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const { def } = match.route;
      const outcome = await this.options.invocations.invoke(def.name, undefined, async (context) => {
        // `query` is left to HttpRequest, which reads it from the URL and so keeps repeated keys.
        const request = new azureFunctions.HttpRequest({
          method,
          url: url.toString(),
          headers,
          params: match.params,
          body: body.length > 0 ? { bytes: body } : undefined,
        });
        return toHttpResponse(await def.handler(request, context));
      });
      if (!outcome.ok) {
        this.options.emit(`${def.name} failed in ${outcome.ms} ms: ${errorMessage(outcome.error)}`);
        return sendProblem(res, internalError());
      }
      const response = outcome.value;
      this.options.emit(`${def.name} ${response.status} in ${outcome.ms} ms`);
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    } catch (error) {
      // The host's own answers (404, 405, 413, a malformed path) are AppErrors; anything else is a failure.
      if (!isAppError(error)) this.options.emit(`HTTP request failed: ${errorMessage(error)}`);
      if (!res.headersSent) sendProblem(res, problemOf(error));
      else res.destroy();
    }
  }
}

/** The body, or undefined as soon as it exceeds `limit` (a body sent without a length). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.off('end', onEnd);
      resolve(undefined);
    };
    const onEnd = (): void => resolve(Buffer.concat(chunks));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
    req.once('close', () => reject(new Error('the client closed the request before its end'))); // no-op once settled
  });
}

interface WireResponse {
  status: number;
  headers: http.OutgoingHttpHeaders;
  body: Buffer;
}

/** Converts a handler's result the way the library does (jsonBody wins, content-type defaults), then buffers it. */
async function toHttpResponse(init: HttpResponseInit): Promise<WireResponse> {
  const response = init instanceof azureFunctions.HttpResponse ? init : new azureFunctions.HttpResponse(init);
  const body = Buffer.from(await response.arrayBuffer());
  const headers: http.OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie' && name !== 'content-length' && name !== 'transfer-encoding') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  headers['content-length'] = body.length;
  return { status: response.status, headers, body };
}

/** The host's own answers are problem+json too, in the API's shape. */
function sendProblem(res: http.ServerResponse, { status, headers, jsonBody }: ApiResponse): void {
  const text = JSON.stringify(jsonBody);
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
