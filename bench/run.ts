/**
 * `npm run bench -- --users 100000 --groups 2000 [--workers 4] [--scenarios full,unchanged,delta,csv,okta,floor,workers]
 *                   [--worker-users 10000] [--worker-groups 200] [--heap-mb N] [--latency-ms 200] [--json FILE]`
 *
 * Syncs a generated directory through the real pipeline (the app's queue handlers on a private in-memory
 * Azurite, the Graph fake over HTTPS, the Okta fake) and prints, per scenario, wall time, users/s, the rows
 * written and peak RSS, and the directory requests the fakes answered (each `--latency-ms` late); then the floor of this machine (paging the source alone, batch-writing as many entities to
 * Azurite alone) and our time as a ratio to it. This file is an edge: it reads argv and process.env.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';
import { functionDefinitions } from '../functions/registry.js';
import { composeApp, type ComposedApp } from '../shared/app/compose.js';
import { environmentSecrets } from '../shared/config/secrets.js';
import { parseProfile, type ConnectionProfileInput } from '../shared/connections/profile.js';
import { awaitRun } from '../shared/host/await-run.js';
import { startAzurite } from '../shared/host/azurite.js';
import { GraphDirectorySource } from '../shared/providers/entra/graph-directory-source.js';
import { emptyCounts } from '../shared/sync/model.js';
import type { Run } from '../shared/sync/run-model.js';
import { startRun, type StartRunRequest } from '../shared/sync/pipeline/start-run.js';
import { createTestCertificate } from '../test/fakes/tls.js';
import { generateCsv } from './directory.js';
import { countingDeps, tableWrites, type WriteCounts } from './instrument.js';
import { graphRequestKind, oktaRequestKind, summariseRequests, type LoggedRequest, type ProviderRequests, type RequestKind } from './provider-requests.js';
import { cpuSecondsOf, LiveHeapPeak, RssSampler } from './rss.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: options } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    groups: { type: 'string', default: '200' },
    workers: { type: 'string', default: '4' },
    scenarios: { type: 'string', default: 'full,unchanged,delta,csv,okta,floor,workers' },
    'worker-users': { type: 'string' },
    'worker-groups': { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'heap-mb': { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    json: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const USERS = positive(options.users, '--users');
const GROUPS = positive(options.groups, '--groups');
const WORKERS = positive(options.workers, '--workers');
const WORKER_USERS = positive(options['worker-users'] ?? String(Math.min(USERS, 10_000)), '--worker-users');
const WORKER_GROUPS = positive(options['worker-groups'] ?? String(Math.min(GROUPS, 200)), '--worker-groups');
const SCENARIOS = new Set(options.scenarios.split(',').map((s) => s.trim()));
const LATENCY_MS = options['latency-ms'] === '0' ? 0 : positive(options['latency-ms'], '--latency-ms');

function positive(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return value;
}

// Node reads NODE_EXTRA_CA_CERTS only at start-up: the first process makes the Graph fake's certificate and
// runs the benchmark in a child that trusts it (the Graph SDK and @azure/identity then accept https://127.0.0.1).
if (process.env.USERSYNC_BENCH_TLS_DIR === undefined) {
  const dir = mkdtempSync(path.join(tmpdir(), 'usersync-bench-'));
  const { cert, key } = await createTestCertificate();
  writeFileSync(path.join(dir, 'cert.pem'), cert);
  writeFileSync(path.join(dir, 'key.pem'), key);
  // --cpu-prof profiles the process running the pipeline only (not Azurite, not the fake).
  const profiling = options['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve('bench/profiles')}`] : [];
  // --heap-mb caps V8's heap of that process (what `--max-old-space-size` does for a memory-bound host).
  const heap = options['heap-mb'] === undefined ? [] : [`--max-old-space-size=${positive(options['heap-mb'], '--heap-mb')}`];
  const child = spawn(process.execPath, [...process.execArgv, ...profiling, ...heap, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem'), USERSYNC_BENCH_TLS_DIR: dir },
  });
  const code = await new Promise<number>((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

// ---- the benchmark itself (child process) ----

const TLS_DIR = process.env.USERSYNC_BENCH_TLS_DIR;
const TENANT = 'bbbbbbbb-0000-4000-8000-000000000001';
const CLIENT = 'cccccccc-0000-4000-8000-000000000001';
const SECRET = 'bench-client-secret';
const OKTA_TOKEN = 'bench-okta-token';

interface ScenarioResult {
  scenario: string;
  users: number;
  /** From startRun until the queues are idle again (includes finalise's clean-up of staged blobs). */
  wallMs: number;
  /** The run's own start → end (what an admin sees as the run's duration; clean-up follows it). */
  runMs: number | undefined;
  usersPerSecond: number;
  writes: WriteCounts;
  tableWrites: number;
  peakRssMb: Record<string, number>;
  /** The pipeline's heap still in use after a major GC, at its peak: what the work holds, garbage aside. */
  liveHeapPeakMb: number;
  /** CPU seconds each process used during the scenario. */
  cpuSeconds: Record<string, number>;
  run?: Pick<Run, 'state' | 'kind' | 'counts' | 'pagesFetched'>;
  /** The directory requests the fake answered during the scenario; the floor is the longest sequence × the latency. */
  provider?: ProviderRequests & { perThousandUsers: number; latencyFloorMs: number };
  notes: string[];
}

/** Which fake a scenario reads, and how its requests are told apart. */
interface ProviderLog {
  fake: 'graph' | 'okta';
  kindOf: (pathWithQuery: string) => RequestKind | undefined;
}
const GRAPH_LOG: ProviderLog = { fake: 'graph', kindOf: graphRequestKind };

const results: ScenarioResult[] = [];
const floors: Record<string, { ms: number; items: number; detail: string }> = {};
const workerRuns: { workers: number; users: number; wallMs: number; usersPerSecond: number }[] = [];
const log = (line: string): void => console.log(line);
const mb = (n: number): string => `${n} MB`;
const benchStart = performance.now();
/** The local host's per-invocation lines (`--verbose`), stamped with seconds since the bench began. */
const hostLog = (line: string): void => {
  if (options.verbose) console.log(`  [${((performance.now() - benchStart) / 1000).toFixed(2)}] ${line}`);
};

const azurite = await startAzurite(options['cpu-prof'] ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.resolve('bench/profiles/azurite')}`] } : {});
const fake = await startFake();
await fake.rpc({ type: 'set-latency', ms: LATENCY_MS });
const sampler = new RssSampler({ 'bench (pipeline)': process.pid, azurite: azurite.pid, 'graph fake': fake.pid });
const liveHeap = new LiveHeapPeak((heapMb) => hostLog(`heap after major GC ${heapMb} MB`));
const startedAt = new Date();
log(`usersync bench ${startedAt.toISOString()}: ${USERS} users, ${GROUPS} groups, ${WORKERS} queue workers, directory latency ${LATENCY_MS} ms; scenarios ${[...SCENARIOS].join(',')}`);

try {
  const env = benchEnv('bench');
  const app = composeApp(env, { log: hostLog });
  await app.ensureStorage();
  const counted = countingDeps(app.deps);
  const definitions = functionDefinitions({ ...app, deps: counted.deps });

  const needsEntra = ['full', 'unchanged', 'delta', 'floor'].some((s) => SCENARIOS.has(s));
  if (needsEntra) {
    const added = await fake.rpc<{ rootGroupId: string; ms: number }>({ type: 'add-tenant', tenantId: TENANT, clientId: CLIENT, clientSecret: SECRET, users: USERS, groups: GROUPS, tag: 1 });
    log(`graph fake: tenant with ${USERS} users and ${GROUPS} groups generated in ${added.ms} ms`);
    await app.deps.connections.put(parseProfile(entraProfile('Bench Entra', TENANT, added.rootGroupId)), new Date().toISOString());
    const sync = async (scenario: string, request: Partial<StartRunRequest>, expect: (run: Run, writes: WriteCounts) => string[]): Promise<Run> =>
      measure(scenario, USERS, counted, async () => {
        const run = await startRun(counted.deps, { connection: 'Bench Entra', trigger: 'manual', startedBy: 'cli:tester', ...request });
        return awaitRun(app, definitions, run.runId, { queueWorkers: WORKERS, timeoutMs: 60 * 60_000, log: hostLog });
      }, expect, GRAPH_LOG);

    if (SCENARIOS.has('full') || SCENARIOS.has('unchanged') || SCENARIOS.has('delta')) {
      await sync('(a) full sync, Entra', {}, (run) => [check(run.counts.created === USERS, `created ${run.counts.created} of ${USERS}`)]);
    }
    if (SCENARIOS.has('unchanged')) {
      const run = await sync('(b) unchanged re-sync, Entra', {}, (r, writes) => [
        check(r.counts.unchanged === USERS, `unchanged ${r.counts.unchanged} of ${USERS}`),
        check(writes.users === 0, `user entity writes ${writes.users} (must be 0)`),
      ]);
      const rewritten = await userRowsWrittenSince(app, run);
      results.at(-1)!.notes.push(check(rewritten === 0, `Azurite: ${rewritten} user rows with a Timestamp after the run started (must be 0)`));
    }
    if (SCENARIOS.has('delta')) {
      const changes = Math.ceil(USERS / 100);
      await fake.rpc({ type: 'change-users', tenantId: TENANT, count: changes, stamp: new Date().toISOString() });
      const run = await sync('(c) 1% changed, incremental (delta)', { incremental: true }, (r) => [
        check(r.kind === 'incremental', `run kind ${r.kind}`),
        check(r.counts.updated === changes, `updated ${r.counts.updated} of ${changes} changed`),
      ]);
      const rewritten = await userRowsWrittenSince(app, run);
      results.at(-1)!.notes.push(check(rewritten === changes, `Azurite: ${rewritten} user rows rewritten (expected ${changes})`));
    }
    if (SCENARIOS.has('floor')) await sourceFloor(env, app, added.rootGroupId);
  }

  if (SCENARIOS.has('csv')) {
    await app.csvFiles.put('bench/people.csv', generateCsv(USERS));
    await app.deps.connections.put(
      parseProfile({ name: 'Bench CSV', type: 'csv', source: { kind: 'blob', blobName: 'bench/people.csv' }, managerField: 'manager', defaultPasswordSecret: 'BENCH_CSV_PASSWORD', schedule: { kind: 'off' } } as ConnectionProfileInput),
      new Date().toISOString(),
    );
    await measure('(d) CSV full sync', USERS, counted, async () => {
      const run = await startRun(counted.deps, { connection: 'Bench CSV', trigger: 'manual', startedBy: 'cli:tester' });
      return awaitRun(app, definitions, run.runId, { queueWorkers: WORKERS, timeoutMs: 60 * 60_000, log: hostLog });
    }, (run) => [check(run.counts.created === USERS, `created ${run.counts.created} of ${USERS}`)]);
  }

  if (SCENARIOS.has('okta')) await oktaFullSync(app, counted, definitions);

  if (SCENARIOS.has('floor')) await storageFloor(env);

  if (SCENARIOS.has('workers')) await workerScaling();

  printSummary();
} finally {
  sampler.stop();
  liveHeap.stop();
  await fake.close();
  await azurite.stop();
}

// ---- scenarios ----

async function measure(
  scenario: string,
  users: number,
  counted: ReturnType<typeof countingDeps>,
  work: () => Promise<Run>,
  expect: (run: Run, writes: WriteCounts) => string[],
  providerLog?: ProviderLog,
): Promise<Run> {
  log(`\n## ${scenario}: ${users} users …`);
  if (providerLog) await fake.rpc({ type: 'take-requests', fake: providerLog.fake });
  counted.reset();
  sampler.takePeaks();
  liveHeap.take();
  const cpuBefore = cpuTimes();
  const started = performance.now();
  const run = await work();
  const wallMs = performance.now() - started;
  const writes = { ...counted.counts };
  const result: ScenarioResult = {
    scenario,
    users,
    wallMs: Math.round(wallMs),
    runMs: run.endedAt ? Date.parse(run.endedAt) - Date.parse(run.startedAt) : undefined,
    usersPerSecond: Math.round(users / (wallMs / 1000)),
    writes,
    tableWrites: tableWrites(writes),
    peakRssMb: sampler.takePeaks(),
    liveHeapPeakMb: liveHeap.take(),
    cpuSeconds: Object.fromEntries(Object.entries(cpuTimes()).map(([name, seconds]) => [name, Math.round((seconds - (cpuBefore[name] ?? 0)) * 10) / 10])),
    run: { state: run.state, kind: run.kind, counts: run.counts, pagesFetched: run.pagesFetched },
    ...(providerLog ? { provider: await providerRequests(providerLog, users) } : {}),
    notes: [check(run.state === 'succeeded', `run ${run.state}${run.error ? `: ${run.error.message}` : ''}`), ...expect(run, writes)],
  };
  results.push(result);
  log(
    `${scenario}: ${(wallMs / 1000).toFixed(1)} s (run start → end ${result.runMs === undefined ? '?' : (result.runMs / 1000).toFixed(1)} s), ${result.usersPerSecond} users/s, ${result.tableWrites} table rows written ` +
      `(users ${writes.users}, audit ${writes.audit}, usernames ${writes.usernames}, runs ${writes.runs}, other ${writes.other}), ` +
      `${writes.blobs} blobs, ${writes.messages} messages, ${run.pagesFetched} pages; peak RSS ${Object.entries(result.peakRssMb).map(([n, v]) => `${n} ${mb(v)}`).join(', ')}; pipeline heap after major GC ≤ ${result.liveHeapPeakMb ? mb(result.liveHeapPeakMb) : '— (no major GC)'}`,
  );
  if (result.provider) log(`  ${describeProvider(result.provider)}`);
  const memory = process.memoryUsage();
  log(`  counts ${JSON.stringify(run.counts)}; CPU seconds ${JSON.stringify(result.cpuSeconds)}; bench heap used ${Math.round(memory.heapUsed / 2 ** 20)} MB of ${Math.round(memory.heapTotal / 2 ** 20)} MB, external ${Math.round(memory.external / 2 ** 20)} MB`);
  for (const note of result.notes) log(`  ${note}`);
  if (options.verbose) {
    const top = [...counted.calls].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
    log(`  port time (summed over overlapping calls): ${top.map(([name, s]) => `${name} ${s.calls}× ${(s.ms / 1000).toFixed(1)} s`).join(', ')}`);
  }
  return run;
}

/** What the fake answered since the scenario began (taking the log empties it, so the fake holds no more than a scenario's). */
async function providerRequests(providerLog: ProviderLog, users: number): Promise<NonNullable<ScenarioResult['provider']>> {
  const { requests } = await fake.rpc<{ requests: LoggedRequest[] }>({ type: 'take-requests', fake: providerLog.fake });
  const summary = summariseRequests(requests, providerLog.kindOf);
  return { ...summary, perThousandUsers: Math.round((summary.total / users) * 1000 * 10) / 10, latencyFloorMs: summary.longestSequence * LATENCY_MS };
}

function describeProvider(provider: NonNullable<ScenarioResult['provider']>): string {
  return `directory requests ${provider.total} (${kindsOf(provider)}; ${provider.perThousandUsers} per 1,000 users), longest sequence ${provider.longestSequence} → latency floor ${(provider.latencyFloorMs / 1000).toFixed(1)} s at ${LATENCY_MS} ms`;
}

/** Requests by kind, and what the batches among them held (`batch 6 [group members 20]`). */
function kindsOf(provider: ProviderRequests): string {
  const list = (counts: Partial<Record<RequestKind, number>>): string => Object.entries(counts).map(([kind, count]) => `${kind} ${count}`).join(', ');
  const batched = list(provider.batchedByKind);
  return `${list(provider.byKind)}${batched ? ` [in batches: ${batched}]` : ''}`;
}

/** The same directory as an Okta org (flat groups, the built-in Everyone selected), synced in full once. */
async function oktaFullSync(app: ComposedApp, counted: ReturnType<typeof countingDeps>, definitions: ReturnType<typeof functionDefinitions>): Promise<void> {
  const org = await fake.rpc<{ everyoneGroupId: string; ms: number }>({ type: 'add-okta-org', token: OKTA_TOKEN, users: USERS, groups: GROUPS, tag: 1 });
  log(`okta fake: org with ${USERS} users and ${GROUPS + 1} groups generated in ${org.ms} ms`);
  await app.deps.connections.put(
    parseProfile({
      name: 'Bench Okta', type: 'okta', orgUrl: fake.oktaUrl, credential: { kind: 'token', tokenSecret: 'BENCH_OKTA_TOKEN' }, selectedGroups: [org.everyoneGroupId],
      attributeMap: { department: 'department', title: 'jobTitle' }, groups: { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: false }, schedule: { kind: 'off' },
    } as ConnectionProfileInput),
    new Date().toISOString(),
  );
  await measure('(e) full sync, Okta', USERS, counted, async () => {
    const run = await startRun(counted.deps, { connection: 'Bench Okta', trigger: 'manual', startedBy: 'cli:tester' });
    return awaitRun(app, definitions, run.runId, { queueWorkers: WORKERS, timeoutMs: 60 * 60_000, log: hostLog });
  }, (run) => [check(run.counts.created === USERS, `created ${run.counts.created} of ${USERS}`)], { fake: 'okta', kindOf: oktaRequestKind([org.everyoneGroupId]) });
}

/** The source alone: the real Graph adapter reading every page of a full listing, nothing stored. */
async function sourceFloor(env: Record<string, string>, app: ComposedApp, rootGroupId: string): Promise<void> {
  log('\n## floor: paging the Graph fake alone …');
  const source = new GraphDirectorySource(environmentSecrets(env), app.config.pageSize);
  const profile = parseProfile(entraProfile('Bench Entra', TENANT, rootGroupId));
  const run: Run = {
    runId: 'floor', connection: profile.name, directoryKey: 'floor', trigger: 'manual', startedBy: 'cli:bench', kind: 'full', dryRun: true, profile,
    state: 'listing', pagesFetched: 0, listing: 'in-progress', shardsDone: 0, counts: emptyCounts(), skipReasons: {}, unreadableRecords: 0,
    warnings: [], startedAt: new Date().toISOString(),
  };
  sampler.takePeaks();
  const started = performance.now();
  let cursor: unknown = null;
  let pages = 0;
  let entries = 0;
  do {
    const page = await source.readPage({ run, page: pages, cursor });
    pages++;
    entries += page.entries.length;
    cursor = page.next ?? null;
  } while (cursor !== null);
  const ms = performance.now() - started;
  floors.source = { ms: Math.round(ms), items: entries, detail: `${pages} pages, ${entries} entries (users, memberships, managers)` };
  log(`floor (source): ${(ms / 1000).toFixed(1)} s for ${pages} pages / ${entries} entries; peak RSS ${JSON.stringify(sampler.takePeaks())}`);
}

/** Azurite alone: as many user-sized entities as users, submitTransaction of 100, 256 small partitions, 8 batches in flight. */
async function storageFloor(env: Record<string, string>): Promise<void> {
  log(`\n## floor: batch-writing ${USERS} entities to Azurite alone …`);
  const table = TableClient.fromConnectionString(env.AzureWebJobsStorage!, 'benchFloor', { allowInsecureConnection: true });
  await table.createTable();
  const now = new Date().toISOString();
  // About the size and shape of a user row (see shared/store/table/table-user-store.ts); made per batch, so
  // the bench holds only the batches in flight (it also runs under --heap-mb).
  const entity = (partitionKey: string, i: number): TableEntity => ({
    partitionKey, rowKey: `00000000-0001-4000-8000-${i.toString(16).padStart(12, '0')}`, key: `u${i}`, directoryKey: 'floor', username: `user${i}@t1.bench.example`,
    email: `user${i}@t1.bench.example`, firstName: `Given${i}`, lastName: `Surname${i}`, status: 'active', sourceRef: `page ${i % 100} (user ${i})`,
    attributes: JSON.stringify({ department: `Department ${i % 200}`, jobTitle: `Role ${i % 50}` }), directoryControlled: '["email","firstName","lastName","department","jobTitle"]',
    groups: '["Intranet-All","Intranet-Dept-001"]', sourceHash: 'x'.repeat(43), manager: `u${Math.floor(i / 8)}`, createdAt: now, updatedAt: now,
  });
  const PARTITIONS = 256;
  sampler.takePeaks();
  const started = performance.now();
  const limit = pLimit(8);
  const batches: Promise<unknown>[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const partitionKey = `floor-${partition.toString(16).padStart(2, '0')}`;
    // Users partition, partition + 256, …: batches of up to 100 of them.
    for (let first = partition; first < USERS; first += 100 * PARTITIONS) {
      batches.push(
        limit(() => {
          const actions: TransactionAction[] = [];
          for (let i = first; i < USERS && i < first + 100 * PARTITIONS; i += PARTITIONS) actions.push(['upsert', entity(partitionKey, i), 'Replace']);
          return table.submitTransaction(actions);
        }),
      );
    }
  }
  await Promise.all(batches);
  const ms = performance.now() - started;
  floors.storage = { ms: Math.round(ms), items: USERS, detail: `${batches.length} transactions of ≤100 entities, ${PARTITIONS} partitions, 8 in flight` };
  log(`floor (storage): ${(ms / 1000).toFixed(1)} s for ${USERS} entities (${Math.round(USERS / (ms / 1000))}/s); peak RSS ${JSON.stringify(sampler.takePeaks())}`);
  await table.deleteTable();
}

/** The local host with 1, 2 and 4 queue workers, each on fresh tables (same Azurite), a smaller directory. */
async function workerScaling(): Promise<void> {
  const tenantId = 'bbbbbbbb-0000-4000-8000-000000000002';
  const added = await fake.rpc<{ rootGroupId: string }>({ type: 'add-tenant', tenantId, clientId: CLIENT, clientSecret: SECRET, users: WORKER_USERS, groups: WORKER_GROUPS, tag: 2 });
  for (const workers of [1, 2, 4]) {
    const app = composeApp(benchEnv(`benchw${workers}`));
    await app.ensureStorage();
    await app.deps.connections.put(parseProfile(entraProfile('Bench Workers', tenantId, added.rootGroupId)), new Date().toISOString());
    const counted = countingDeps(app.deps);
    const definitions = functionDefinitions({ ...app, deps: counted.deps });
    await measure(`full sync, ${workers} queue worker(s)`, WORKER_USERS, counted, async () => {
      const run = await startRun(counted.deps, { connection: 'Bench Workers', trigger: 'manual', startedBy: 'cli:tester' });
      return awaitRun(app, definitions, run.runId, { queueWorkers: workers, timeoutMs: 60 * 60_000, log: hostLog });
    }, (run) => [check(run.counts.created === WORKER_USERS, `created ${run.counts.created} of ${WORKER_USERS}`)], GRAPH_LOG);
    const last = results.at(-1)!;
    workerRuns.push({ workers, users: WORKER_USERS, wallMs: last.wallMs, usersPerSecond: last.usersPerSecond });
  }
}

// ---- helpers ----

function benchEnv(prefix: string): Record<string, string> {
  return {
    AzureWebJobsStorage: azurite.connectionString,
    USERSYNC_NAME_PREFIX: prefix,
    BENCH_ENTRA_SECRET: SECRET,
    BENCH_CSV_PASSWORD: 'Bench-initial-password-2026',
    BENCH_OKTA_TOKEN: OKTA_TOKEN,
    // The Okta fake is plain HTTP.
    USERSYNC_ALLOW_INSECURE_HTTP: 'true',
  };
}

function entraProfile(name: string, tenantId: string, rootGroupId: string): ConnectionProfileInput {
  return {
    name,
    type: 'entra',
    schedule: { kind: 'off' },
    tenantId,
    clientId: CLIENT,
    credential: { kind: 'secret', secretName: 'BENCH_ENTRA_SECRET' },
    selectedGroups: [rootGroupId],
    attributeMap: { department: 'department', jobTitle: 'jobTitle' },
    groups: { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: false },
    graphBaseUrl: fake.url,
    authorityHost: fake.url,
  } as ConnectionProfileInput;
}

function cpuTimes(): Record<string, number> {
  const pids: Record<string, number | undefined> = { 'bench (pipeline)': process.pid, azurite: azurite.pid, 'graph fake': fake.pid };
  const times: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const seconds = pid === undefined ? undefined : cpuSecondsOf(pid);
    if (seconds !== undefined) times[name] = seconds;
  }
  return times;
}

function check(ok: boolean, text: string): string {
  return `${ok ? 'OK  ' : 'FAIL'} ${text}`;
}

/** Rows of the run's directory that Azurite stamped after the run started: an independent check of the counts. */
async function userRowsWrittenSince(app: ComposedApp, run: Run): Promise<number> {
  const table = TableClient.fromConnectionString(azurite.connectionString, app.config.names.usersTable, { allowInsecureConnection: true });
  const since = Date.parse(run.startedAt);
  let count = 0;
  const filter = `PartitionKey ge '${run.directoryKey}-' and PartitionKey lt '${run.directoryKey}.'`;
  for await (const entity of table.listEntities({ queryOptions: { filter } })) {
    if (entity.timestamp && Date.parse(entity.timestamp) >= since) count++;
  }
  return count;
}

interface FakeProcess {
  url: string;
  oktaUrl: string;
  pid: number | undefined;
  rpc<T = unknown>(command: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

async function startFake(): Promise<FakeProcess> {
  if (!TLS_DIR) throw new Error('no TLS directory');
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, path.join(here, 'graph-fake-process.ts'), path.join(TLS_DIR, 'cert.pem'), path.join(TLS_DIR, 'key.pem')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const { url, oktaUrl } = await new Promise<{ url: string; oktaUrl: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`graph fake exited (${code ?? 'signal'})`)));
    child.on('message', (message: { ready?: boolean; url?: string; oktaUrl?: string; id?: number; ok?: boolean; error?: string }) => {
      if (message.ready && message.url && message.oktaUrl) return resolve({ url: message.url, oktaUrl: message.oktaUrl });
      const waiter = message.id === undefined ? undefined : pending.get(message.id);
      if (!waiter || message.id === undefined) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message);
      else waiter.reject(new Error(`graph fake: ${message.error ?? 'failed'}`));
    });
  });
  return {
    url,
    oktaUrl,
    pid: child.pid,
    rpc: <T>(command: Record<string, unknown>) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ ...command, id });
      }),
    close: async () => {
      if (child.exitCode !== null || !child.connected) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close', id: 0 });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function printSummary(): void {
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  const lines: string[] = [];
  const heapCap = options['heap-mb'] === undefined ? 'V8 default heap' : `--max-old-space-size=${options['heap-mb']}`;
  lines.push(`\n# Summary (${USERS} users, ${GROUPS} groups, ${WORKERS} queue workers, ${heapCap}, started ${startedAt.toISOString()})\n`);
  lines.push('| scenario | users | wall s | run s | users/s | table rows written | user rows | audit | usernames | runs/other | blobs | msgs | peak RSS (MB) | heap after GC (MB) | checks |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
  for (const r of results) {
    const rss = Object.entries(r.peakRssMb).map(([n, v]) => `${n} ${v}`).join(', ');
    const ok = r.notes.every((note) => note.startsWith('OK')) ? 'all OK' : r.notes.filter((n) => !n.startsWith('OK')).join('; ');
    lines.push(`| ${r.scenario} | ${r.users} | ${seconds(r.wallMs)} | ${r.runMs === undefined ? '?' : seconds(r.runMs)} | ${r.usersPerSecond} | ${r.tableWrites} | ${r.writes.users} | ${r.writes.audit} | ${r.writes.usernames} | ${r.writes.runs + r.writes.other} | ${r.writes.blobs} | ${r.writes.messages} | ${rss} | ${r.liveHeapPeakMb || '—'} | ${ok} |`);
  }
  if (floors.source || floors.storage) {
    lines.push('\n| floor | seconds | detail |');
    lines.push('|---|---:|---|');
    if (floors.source) lines.push(`| paging the Graph fake alone | ${seconds(floors.source.ms)} | ${floors.source.detail} |`);
    if (floors.storage) lines.push(`| batch-writing ${USERS} entities to Azurite alone | ${seconds(floors.storage.ms)} | ${floors.storage.detail} |`);
    const full = results.find((r) => r.scenario.startsWith('(a)'));
    const csv = results.find((r) => r.scenario.startsWith('(d)'));
    if (floors.source && floors.storage) {
      const floor = floors.source.ms + floors.storage.ms;
      lines.push(`| floor = source + storage | ${seconds(floor)} | |`);
      if (full) lines.push(`\nFull Entra sync / floor = ${seconds(full.wallMs)} s / ${seconds(floor)} s = **${(full.wallMs / floor).toFixed(2)}×**`);
    }
    if (csv && floors.storage) lines.push(`CSV full sync / storage floor = ${seconds(csv.wallMs)} s / ${seconds(floors.storage.ms)} s = **${(csv.wallMs / floors.storage.ms).toFixed(2)}×**`);
    // A first sync must write ~3 rows per user (the user, its audit record, its username claim): the floor
    // for the rows a scenario really wrote is the storage floor's per-entity time × those rows.
    const storage = floors.storage;
    for (const r of [full, csv]) {
      if (!r || !storage) continue;
      const perEntityMs = storage.ms / storage.items;
      const rowsFloor = (r === full ? (floors.source?.ms ?? 0) : 0) + perEntityMs * r.tableWrites;
      lines.push(`${r.scenario} / floor for the ${r.tableWrites} rows it wrote${r === full ? ' (+ source)' : ''} = ${seconds(r.wallMs)} s / ${seconds(rowsFloor)} s = **${(r.wallMs / rowsFloor).toFixed(2)}×**`);
    }
  }
  const withProvider = results.filter((r) => r.provider);
  if (withProvider.length) {
    lines.push(`\n| scenario | directory latency | wall s | directory requests | by kind | per 1,000 users | longest sequence | latency floor s |`);
    lines.push('|---|---:|---:|---:|---|---:|---:|---:|');
    for (const r of withProvider) {
      const p = r.provider!;
      lines.push(`| ${r.scenario} | ${LATENCY_MS} ms | ${seconds(r.wallMs)} | ${p.total} | ${kindsOf(p)} | ${p.perThousandUsers} | ${p.longestSequence} | ${seconds(p.latencyFloorMs)} |`);
    }
  }
  if (workerRuns.length) {
    lines.push('\n| queue workers | users | wall s | users/s |');
    lines.push('|---:|---:|---:|---:|');
    for (const w of workerRuns) lines.push(`| ${w.workers} | ${w.users} | ${seconds(w.wallMs)} | ${w.usersPerSecond} |`);
  }
  console.log(lines.join('\n'));
  if (options.json) writeFileSync(options.json, JSON.stringify({ startedAt, users: USERS, groups: GROUPS, workers: WORKERS, heapMb: options['heap-mb'], latencyMs: LATENCY_MS, results, floors, workerRuns }, null, 2));
}

