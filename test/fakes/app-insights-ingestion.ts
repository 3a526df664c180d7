import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

/**
 * A local Application Insights ingestion endpoint (`/v2.1/track`) over HTTPS (the exporter upgrades http
 * to https), trusted through NODE_EXTRA_CA_CERTS (test/support/global-setup.ts). It keeps every envelope.
 */

export interface Envelope {
  name: string;
  iKey?: string;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: { name?: string; properties?: Record<string, string> } };
}

export interface Ingestion {
  url: string;
  envelopes: Envelope[];
  requests: string[];
  close(): Promise<void>;
}

export async function startIngestion(tls: { cert: string; key: string }): Promise<Ingestion> {
  const envelopes: Envelope[] = [];
  const requests: string[] = [];
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push(`${request.method} ${request.url}`);
      const path = (request.url ?? '').split('?')[0];
      if (request.method !== 'POST' || (path !== '/v2.1/track' && path !== '/v2/track')) {
        response.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      const encoding = request.headers['content-encoding'];
      if (encoding === 'gzip') body = gunzipSync(body);
      else if (encoding === 'deflate') body = inflateSync(body);
      const text = body.toString('utf8').trim();
      // A JSON array of envelopes, or newline-delimited JSON.
      const received: Envelope[] = text.startsWith('[')
        ? (JSON.parse(text) as Envelope[])
        : text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Envelope);
      envelopes.push(...received);
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ itemsReceived: received.length, itemsAccepted: received.length, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    envelopes,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
