import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HR system's web server publishing a CSV export behind basic authentication — the "remote CSV"
 * source. Records what it was asked so tests can check the credentials that were sent.
 */
export interface CsvServer {
  url(path: string): string;
  /** Status to answer instead of the file, per path (e.g. 503 for an outage). */
  failWith: Map<string, number>;
  requests: { path: string; authorization?: string }[];
  close(): Promise<void>;
}

export async function startCsvServer(files: Record<string, string>, credentials: { username: string; password: string }): Promise<CsvServer> {
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
  const failWith = new Map<string, number>();
  const requests: CsvServer['requests'] = [];
  const server = http.createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push({ path, ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}) });
    const failure = failWith.get(path);
    if (failure) {
      response.writeHead(failure, { 'content-type': 'text/plain' }).end('unavailable');
    } else if (request.headers.authorization !== expected) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="hr"', 'content-type': 'text/plain' }).end('unauthorised');
    } else if (files[path] === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    } else {
      response.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(files[path]);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    failWith,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
