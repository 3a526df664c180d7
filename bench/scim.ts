/**
 * `npm run bench:scim -- [--users 2000] [--concurrency 16] [--contended 50] [--json FILE]`
 *
 * The SCIM endpoint on the local host (the real app on a private in-memory Azurite, served over HTTP as in
 * Azure): POSTs `--users` Entra-shaped users, PATCHes each once (a name and the enterprise department), then
 * sends `--contended` PATCHes of one user at once. Prints, per phase, requests per second and the latency
 * percentiles of the answers, and checks every answer was a success (exit 1 if not). This file is an edge: it
 * reads argv and prints.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { functionDefinitions } from '../functions/registry.js';
import { composeApp } from '../shared/app/compose.js';
import { parseProfile } from '../shared/connections/profile.js';
import { startAzurite } from '../shared/host/azurite.js';
import { LocalHost } from '../shared/host/local-host.js';

const { values: options } = parseArgs({
  options: {
    users: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    contended: { type: 'string', default: '50' },
    json: { type: 'string' },
  },
});
const USERS = Number(options.users);
const CONCURRENCY = Number(options.concurrency);
const CONTENDED = Number(options.contended);
const TOKEN = 'bench-scim-token-0123456789abcdef';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface Phase {
  phase: string;
  requests: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  failures: number;
}

const azurite = await startAzurite();
const host = await (async () => {
  const app = composeApp({ AzureWebJobsStorage: azurite.connectionString, USERSYNC_NAME_PREFIX: 'benchscim', PUSH_TOKEN: TOKEN });
  await app.ensureStorage();
  await app.deps.connections.put(parseProfile({ name: 'Push', type: 'scim', tokenSecret: 'PUSH_TOKEN' }), new Date().toISOString());
  const local = new LocalHost(functionDefinitions(app, { localHost: true }), { connectionString: azurite.connectionString, httpPort: 0, log: () => undefined });
  await local.start();
  return local;
})();

/** The first answer of each failing status, to say why (printed after the table). */
const failureSamples = new Map<number, string>();

async function send(method: string, path: string, body: unknown): Promise<{ ok: boolean; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${host.httpUrl}/scim/v2/Push/${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok && !failureSamples.has(response.status)) failureSamples.set(response.status, text.slice(0, 300));
  return { ok: response.ok, ms: performance.now() - started };
}

async function phase(name: string, concurrency: number, requests: (() => Promise<{ ok: boolean; ms: number }>)[]): Promise<Phase> {
  const limit = pLimit(concurrency);
  const started = performance.now();
  const answers = await Promise.all(requests.map((request) => limit(request)));
  const seconds = (performance.now() - started) / 1000;
  const sorted = answers.map((answer) => answer.ms).sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return {
    phase: name,
    requests: answers.length,
    concurrency,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(answers.length / seconds),
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    p99Ms: at(0.99),
    maxMs: Math.round(sorted.at(-1)!),
    failures: answers.filter((answer) => !answer.ok).length,
  };
}

const ids = Array.from({ length: USERS }, (_, i) => `obj-${String(i).padStart(7, '0')}`);
const user = (id: string, i: number) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
  externalId: id,
  userName: `user${i}@bench.example`,
  active: true,
  emails: [{ primary: true, type: 'work', value: `user${i}@bench.example` }],
  name: { givenName: `Given${i}`, familyName: `Family${i}` },
  [ENTERPRISE]: { department: 'Sales', employeeNumber: String(i) },
});
const patch = (i: number) => ({
  schemas: [PATCH_OP],
  Operations: [
    { op: 'Replace', path: 'name.givenName', value: `Changed${i}` },
    { op: 'Replace', path: `${ENTERPRISE}:department`, value: `Support ${i % 7}` },
  ],
});

const load = loadavg()[0]!;
const results: Phase[] = [];
try {
  results.push(await phase('POST /Users', CONCURRENCY, ids.map((id, i) => () => send('POST', 'Users', user(id, i)))));
  results.push(await phase('PATCH /Users/{id}', CONCURRENCY, ids.map((id, i) => () => send('PATCH', `Users/${id}`, patch(i)))));
  results.push(await phase('PATCH one user', CONTENDED, Array.from({ length: CONTENDED }, (_, i) => () => send('PATCH', `Users/${ids[0]}`, patch(i)))));
} finally {
  await host.stop();
  await azurite.stop();
}

console.log(`SCIM endpoint on the local host: ${USERS} users, load average ${load.toFixed(1)} at start`);
console.table(results);
if (options.json) writeFileSync(options.json, JSON.stringify({ users: USERS, concurrency: CONCURRENCY, loadAverage: load, results }, null, 2));
const failed = results.reduce((sum, result) => sum + result.failures, 0);
if (failed > 0) {
  console.error(`${failed} request(s) did not succeed; the first answer of each status:`);
  for (const [status, text] of failureSamples) console.error(`  ${status}: ${text}`);
  process.exitCode = 1;
}
