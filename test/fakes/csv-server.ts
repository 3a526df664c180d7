import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * An HR system's web server publishing a CSV export behind basic authentication — the "remote CSV"
 * source. Records what it was asked so tests can check the credentials that were sent.
 */
export interface CsvServer {
  url(path: string): string;
  readonly port: number;
  /** Status to answer instead of the file, per path (e.g. 503 for an outage). */
  failWith: Map<string, number>;
  /** A `302` to the given location, per path (answered before authentication, as web servers do). */
  redirects: Map<string, string>;
  requests: { path: string; authorization?: string }[];
  close(): Promise<void>;
}

export interface CsvServerOptions {
  /** Serve HTTPS with this certificate (the global setup's `tlsCert`/`tlsKey` is trusted by test workers). */
  tls?: { cert: string; key: string };
}

/** `credentials` undefined: the files are public. */
export async function startCsvServer(
  files: Record<string, string>,
  credentials: { username: string; password: string } | undefined,
  options: CsvServerOptions = {},
): Promise<CsvServer> {
  const expected = credentials && `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const failWith = new Map<string, number>();
  const redirects = new Map<string, string>();
  const requests: CsvServer['requests'] = [];
  const handle: http.RequestListener = (request, response) => {
    const path = request.url ?? '/';
    requests.push({ path, ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}) });
    const failure = failWith.get(path);
    const location = redirects.get(path);
    if (failure) {
      response.writeHead(failure, { 'content-type': 'text/plain' }).end('unavailable');
    } else if (location) {
      response.writeHead(302, { location }).end();
    } else if (expected && request.headers.authorization !== expected) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="hr"', 'content-type': 'text/plain' }).end('unauthorised');
    } else if (files[path] === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } else {
      response.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(files[path]);
    }
  };
  const server = options.tls ? https.createServer(options.tls, handle) : http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls ? 'https' : 'http';
  return {
    url: (path) => `${scheme}://127.0.0.1:${port}${path}`,
    port,
    failWith,
    redirects,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
