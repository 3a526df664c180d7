import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HttpRequest, InvocationContext, Timer } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionDefinition } from '../../shared/app/registry.js';
import { startAzurite } from '../../shared/host/azurite.js';
import type { AzuriteInstance } from '../../shared/host/azurite.js';
import { LocalHost } from '../../shared/host/local-host.js';
import type { LocalHostOptions } from '../../shared/host/local-host.js';
import { waitUntil } from '../support/wait.js';

let azurite: AzuriteInstance;
let queues: QueueServiceClient;
const hosts: LocalHost[] = [];
const logs: string[] = [];
// A path that does not exist: tests must not depend on the repository's host.json.
// (Handler parameters are annotated because FunctionDefinition's nested `trigger.kind` does not narrow them.)
const noHostJson = path.join(os.tmpdir(), `no-host-json-${randomUUID()}`, 'host.json');

beforeAll(async () => {
  azurite = await startAzurite();
  queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
}, 30_000);

afterAll(async () => {
  await azurite?.stop();
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.stop()));
  logs.length = 0;
});

function makeHost(definitions: FunctionDefinition[], options: Partial<LocalHostOptions> = {}): LocalHost {
  const host = new LocalHost(definitions, {
    connectionString: azurite.connectionString,
    pollIntervalMs: 10,
    hostJsonPath: noHostJson,
    queues: { visibilityTimeoutMs: 0, maxPollingIntervalMs: 50, maxDequeueCount: 3 },
    log: (line) => logs.push(line),
    ...options,
  });
  hosts.push(host);
  return host;
}

const queueName = (): string => `q-${randomUUID().slice(0, 8)}`;
const base64 = (text: string): string => Buffer.from(text).toString('base64');

async function visibleCount(name: string): Promise<number> {
  return (await queues.getQueueClient(name).peekMessages({ numberOfMessages: 32 })).peekedMessageItems.length;
}

describe('LocalHost queues', () => {
  it('decodes base64 JSON to an object, keeps non-JSON text as a string, and deletes handled messages', async () => {
    const name = queueName();
    const received: { message: unknown; dequeueCount: unknown }[] = [];
    const host = makeHost([
      {
        name: 'record',
        trigger: { kind: 'queue', queueName: name },
        handler: async (message: unknown, context: InvocationContext) => {
          received.push({ message, dequeueCount: context.triggerMetadata?.dequeueCount });
        },
      },
    ]);
    await host.start();
    const queue = queues.getQueueClient(name);
    await queue.sendMessage(base64(JSON.stringify({ email: 'alice@example.com', n: 1 })));
    await queue.sendMessage(base64('plain text'));

    await waitUntil(() => received.length === 2 && host.idle(), 'both messages handled');
    expect(received).toEqual(
      expect.arrayContaining([
        { message: { email: 'alice@example.com', n: 1 }, dequeueCount: 1 },
        { message: 'plain text', dequeueCount: 1 },
      ]),
    );
    expect(await visibleCount(name)).toBe(0);
    expect(host.invocations).toMatchObject({ started: 2, succeeded: 2, failed: 0 });
    expect(logs.join('\n')).not.toContain('alice');
  });

  it('retries a failing message and moves it to <queue>-poison after maxDequeueCount attempts', async () => {
    const name = queueName();
    const attempts: unknown[] = [];
    const host = makeHost([
      {
        name: 'fail',
        trigger: { kind: 'queue', queueName: name },
        handler: async (_message: unknown, context: InvocationContext) => {
          attempts.push(context.triggerMetadata?.dequeueCount);
          throw new Error('boom');
        },
      },
    ]);
    await host.start();
    const text = base64(JSON.stringify({ id: 42 }));
    await queues.getQueueClient(name).sendMessage(text);

    const poison = queues.getQueueClient(`${name}-poison`);
    await waitUntil(async () => (await visibleCount(`${name}-poison`)) === 1, 'the message in the poison queue');
    await waitUntil(() => host.idle(), 'the host to be idle');
    expect(attempts).toEqual([1, 2, 3]);
    const [moved] = (await poison.peekMessages()).peekedMessageItems;
    expect(moved?.messageText).toBe(text);
    expect(await visibleCount(name)).toBe(0);
    expect(host.invocations).toMatchObject({ failed: 3, poisoned: 1 });
  });

  it('sends a message that is not valid base64 straight to the poison queue', async () => {
    const name = queueName();
    let calls = 0;
    const host = makeHost([
      {
        name: 'never',
        trigger: { kind: 'queue', queueName: name },
        handler: async () => {
          calls++;
        },
      },
    ]);
    await host.start();
    await queues.getQueueClient(name).sendMessage('{not base64}');
    await waitUntil(async () => (await visibleCount(`${name}-poison`)) === 1, 'the message in the poison queue');
    expect(calls).toBe(0);
  });

  it('runs at most queueWorkers invocations at once and uses them all', async () => {
    const name = queueName();
    let running = 0;
    let peak = 0;
    let done = 0;
    // Handlers hold until the test opens the gate: three must be running at once, whatever the machine's pace.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const host = makeHost(
      [
        {
          name: 'held',
          trigger: { kind: 'queue', queueName: name },
          handler: async () => {
            peak = Math.max(peak, ++running);
            await gate;
            running--;
            done++;
          },
        },
      ],
      { queueWorkers: 3 },
    );
    const queue = queues.getQueueClient(name);
    await queue.createIfNotExists();
    await Promise.all(Array.from({ length: 9 }, (_, i) => queue.sendMessage(base64(String(i)))));
    await host.start();
    try {
      await waitUntil(() => running === 3, 'three invocations running at once');
      // With its three workers busy the host leases no more: the other six are still visible in the queue.
      expect(await visibleCount(name)).toBe(6);
    } finally {
      open(); // also when failing, so that the host can stop
    }
    await waitUntil(() => done === 9, 'all nine messages handled');
    expect(peak).toBe(3);
  });

  it('renews the lease of a message whose handler outlasts it, so it is handled once', async () => {
    const name = queueName();
    let calls = 0;
    const renewals = () => logs.filter((line) => line.startsWith('long renewed its message lease')).length;
    const host = makeHost(
      [
        {
          name: 'long',
          trigger: { kind: 'queue', queueName: name },
          // Outlasts its 2 s lease: the handler ends only after the host renewed the lease three times.
          handler: async () => {
            calls++;
            await waitUntil(() => renewals() >= 3, 'three lease renewals');
          },
        },
      ],
      { messageLeaseSeconds: 2 },
    );
    await host.start();
    await queues.getQueueClient(name).sendMessage(base64('x'));
    await waitUntil(() => host.invocations.succeeded === 1 && host.idle(), 'the long invocation to end');
    expect(calls).toBe(1);
    expect(await visibleCount(name)).toBe(0);
    expect(logs.join('\n')).not.toContain('could not');
  });

  it('reads extensions.queues from host.json, with options overriding it', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'host-json-'));
    const hostJsonPath = path.join(dir, 'host.json');
    writeFileSync(
      hostJsonPath,
      JSON.stringify({
        version: '2.0',
        extensions: {
          queues: { maxDequeueCount: 7, visibilityTimeout: '00:00:10', batchSize: 8, maxPollingInterval: '00:00:02.500', messageEncoding: 'none' },
        },
      }),
    );
    const host = new LocalHost([], { connectionString: azurite.connectionString, hostJsonPath, queues: { maxDequeueCount: 2 } });
    expect(host.queueSettings).toEqual({
      maxDequeueCount: 2,
      visibilityTimeoutMs: 10_000,
      batchSize: 8,
      maxPollingIntervalMs: 2_500,
      messageEncoding: 'none',
    });
  });
});

describe('LocalHost HTTP', () => {
  const definitions: FunctionDefinition[] = [
    {
      name: 'getUser',
      trigger: { kind: 'http', route: 'users/{id}', methods: ['GET'] },
      handler: async (request: HttpRequest) => ({ jsonBody: { id: request.params.id, q: request.query.getAll('q') } }),
    },
    {
      name: 'me',
      trigger: { kind: 'http', route: 'users/me', methods: ['GET'] },
      handler: async () => ({ body: 'me', headers: { 'x-test': 'yes' } }),
    },
    {
      name: 'createUser',
      trigger: { kind: 'http', route: 'users', methods: ['POST'] },
      handler: async (request: HttpRequest) => ({ status: 201, jsonBody: { received: await request.json() } }),
    },
    {
      name: 'files',
      trigger: { kind: 'http', route: 'files/{*path}', methods: ['GET'] },
      handler: async (request: HttpRequest) => ({ body: Buffer.from(`path=${request.params.path}`) }),
    },
    {
      name: 'broken',
      trigger: { kind: 'http', route: 'broken', methods: ['GET'] },
      handler: async () => {
        throw new Error('secret detail');
      },
    },
  ];

  it('routes params, query, body and catch-all; answers 404, 405 and a generic 500 as problem+json', async () => {
    const host = makeHost(definitions, { httpPort: 0 });
    await host.start();
    const api = `${host.httpUrl}/api`;

    const user = await fetch(`${api}/users/a%20b?q=1&q=2`);
    expect(user.status).toBe(200);
    expect(user.headers.get('content-type')).toBe('application/json');
    expect(await user.json()).toEqual({ id: 'a b', q: ['1', '2'] });

    const me = await fetch(`${api}/USERS/me`); // literal beats {id}; literals are case-insensitive
    expect(me.headers.get('x-test')).toBe('yes');
    expect(await me.text()).toBe('me');

    const created = await fetch(`${api}/users`, { method: 'POST', body: JSON.stringify({ name: 'Bo' }) });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ received: { name: 'Bo' } });

    expect(await (await fetch(`${api}/files/a/b/c.csv`)).text()).toBe('path=a/b/c.csv');
    expect(await (await fetch(`${api}/files`)).text()).toBe('path=');

    const missing = await fetch(`${api}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.json()).toMatchObject({ code: 'not-found', status: 404, detail: 'No function is registered for /api/nope.' });
    expect((await fetch(`${host.httpUrl}/users/1`)).status).toBe(404); // outside /api/

    const wrongMethod = await fetch(`${api}/users/1`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect(await wrongMethod.json()).toMatchObject({ code: 'method-not-allowed', allow: 'GET' });

    const malformed = await fetch(`${api}/users/%ZZ`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'path-invalid' });

    const broken = await fetch(`${api}/broken`);
    expect(broken.status).toBe(500);
    expect(broken.headers.get('content-type')).toBe('application/problem+json');
    const brokenBody = await broken.text();
    expect(brokenBody).not.toContain('secret');
    expect(JSON.parse(brokenBody)).toMatchObject({ code: 'internal-error', status: 500 });
  });

  it('routes under host.json\'s routePrefix: "" from the root, where api/{*path} wins over {*path}; "api" when absent', async () => {
    const catchAll = (name: string, route: string): FunctionDefinition => ({
      name,
      trigger: { kind: 'http', route, methods: ['GET'] },
      handler: async (request: HttpRequest) => ({ body: `${name} ${request.params.path}` }),
    });
    const both = [catchAll('site', '{*path}'), catchAll('api', 'api/{*path}')];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'host-json-'));
    const hostJsonPath = path.join(dir, 'host.json');
    writeFileSync(hostJsonPath, JSON.stringify({ version: '2.0', extensions: { http: { routePrefix: '' } } }));
    const root = makeHost(both, { httpPort: 0, hostJsonPath });
    await root.start();
    const text = async (url: string) => (await fetch(url)).text();
    expect(await text(`${root.httpUrl}/api/users/1`)).toBe('api users/1');
    expect(await text(`${root.httpUrl}/API`)).toBe('api ');
    expect(await text(`${root.httpUrl}/runs/1`)).toBe('site runs/1');
    expect(await text(`${root.httpUrl}/apis/1`)).toBe('site apis/1');
    expect(await text(`${root.httpUrl}/`)).toBe('site ');

    const prefixed = makeHost(both, { httpPort: 0 }); // no host.json: the Functions host's default, api
    await prefixed.start();
    expect(prefixed.routePrefix).toBe('api');
    expect(await text(`${prefixed.httpUrl}/api/api/users/1`)).toBe('api users/1');
    expect(await text(`${prefixed.httpUrl}/api/runs/1`)).toBe('site runs/1');
    expect((await fetch(`${prefixed.httpUrl}/runs/1`)).status).toBe(404);
  });

  it('rejects unsupported route templates at start', async () => {
    const host = makeHost(
      [{ name: 'typed', trigger: { kind: 'http', route: 'users/{id:int}', methods: ['GET'] }, handler: async () => ({}) }],
      { httpPort: 0 },
    );
    await expect(host.start()).rejects.toThrow(/not supported locally/);
  });
});

describe('LocalHost timers', () => {
  const recordTimer = (name: string, schedule: string, fired: Timer[]): FunctionDefinition => ({
    name,
    trigger: { kind: 'timer', schedule },
    handler: async (timer: Timer) => {
      fired.push(timer);
    },
  });

  it('fireTimer runs the handler once with a Timer object and rejects unknown names', async () => {
    const fired: Timer[] = [];
    const host = makeHost([recordTimer('tick', '0 */5 * * * *', fired)]);
    await host.fireTimer('tick');
    expect(fired).toHaveLength(1);
    const [timer] = fired;
    expect(timer).toMatchObject({ isPastDue: false, schedule: { adjustForDST: true } });
    const next = new Date(timer?.scheduleStatus.next ?? '');
    expect(next.getUTCSeconds()).toBe(0);
    expect(next.getUTCMinutes() % 5).toBe(0);
    await expect(host.fireTimer('nope')).rejects.toThrow(/no timer function/);
  });

  it('fireTimer rejects when the handler throws', async () => {
    const host = makeHost([
      {
        name: 'bad',
        trigger: { kind: 'timer', schedule: '0 0 * * * *' },
        handler: async () => {
          throw new Error('timer failed');
        },
      },
    ]);
    await expect(host.fireTimer()).rejects.toThrow('timer failed');
  });

  it('runs on the schedule when runTimer is set, and refuses schedules it cannot run', async () => {
    const fired: Timer[] = [];
    const host = makeHost([recordTimer('everySecond', '* * * * * *', fired)], { runTimer: true });
    await host.start();
    await waitUntil(() => fired.length >= 1, 'the every-second timer to fire');

    const weekdays = makeHost([recordTimer('weekdays', '0 0 2 * * 1-5', [])], { runTimer: true });
    await expect(weekdays.start()).rejects.toThrow(/not supported locally/);
  });
});
