import http from 'node:http';
import type { Socket } from 'node:net';

export interface BlobProxy {
  /** The storage connection string with its blob endpoint pointing through the proxy. */
  connectionString: string;
  /**
   * Holds (never answers) the next request whose method and path match, resolving once it arrived: the
   * process that sent it stops right there, at a point of its work the test chose, not at a time.
   */
  holdNext(method: string, path: RegExp): Promise<void>;
  close(): Promise<void>;
}

/** A pass-through HTTP proxy in front of Azurite's blob service (requests are forwarded as they are). */
export async function startBlobProxy(connectionString: string): Promise<BlobProxy> {
  const endpoint = /BlobEndpoint=(http:\/\/[^;]+)/.exec(connectionString)?.[1];
  if (!endpoint) throw new Error('startBlobProxy: the connection string has no http BlobEndpoint');
  const target = new URL(endpoint);
  const holds: { method: string; path: RegExp; arrived: () => void }[] = [];
  const sockets = new Set<Socket>();

  const server = http.createServer((request, response) => {
    const hold = holds.find(({ method, path }) => request.method === method && path.test(request.url ?? ''));
    if (hold) {
      holds.splice(holds.indexOf(hold), 1);
      hold.arrived();
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    connectionString: connectionString.replace(endpoint, `http://127.0.0.1:${port}${target.pathname}`),
    holdNext: (method, path) => new Promise<void>((arrived) => holds.push({ method, path, arrived })),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
