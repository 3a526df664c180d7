import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actorName } from '../../shared/audit/audit-log.js';
import { isHttpFunction, isQueueFunction } from '../../shared/app/registry.js';
import { COMMANDS, USAGE } from '../../shared/cli/cli.js';
import { resolveCommand } from '../../shared/cli/command-line.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { cliOn, cliRemote, type CliOutcome } from '../support/cli.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * Every CLI command, run the same way twice from the same start: in-process on storage (`cliOn`), and with
 * `--url` through the local host's HTTP API (which works the runs' queues itself). Both transcripts must be
 * the same — output and exit codes — once run ids, directory keys, times and who acted are named alike.
 * The script covers every command of the CLI's list: a command added without a step here fails the test.
 */

/** One side of the comparison: how a command runs there, and how a run can be kept from moving. */
interface Side {
  t: TestApp;
  usersync(args: string[]): Promise<CliOutcome>;
  /** Stops and restarts the workers of the runs' queues (remotely, the host's; locally none run between commands). */
  pauseQueues(): Promise<void>;
  resumeQueues(): Promise<void>;
  /** How this side's caller is named in what it did ("Cancelled by …"). */
  actor: string;
}

type Arg = string | ((side: Side) => Promise<string>);

interface Step {
  args: Arg[];
  /** Done on each side before the command (state the CLI cannot make by itself). */
  before?: (side: Side) => Promise<void>;
  after?: (side: Side) => Promise<void>;
  /**
   * Its lines are compared as a set: audit records of the same time come in table order, and the tables of
   * two apps order them differently (partitions are named from the random directory key).
   */
  unordered?: boolean;
}

const PROFILE = 'HR export';
const csvUpload = (file: string): Step => ({ args: ['csv', 'upload', PROFILE, file] });
const lastRun = (filter: (run: { dryRun: boolean; state: string }) => boolean) => async (side: Side) => {
  const run = (await side.t.app.deps.runs.list({ connection: PROFILE, limit: 50 })).find(filter);
  if (!run) throw new Error('the script expected a run here');
  return run.runId;
};

function script(files: { withLocalAccount: string }): Step[] {
  /** A run left active (its queues held still), for `run cancel`. */
  const activeRun = new Map<Side, string>();
  return [
    { args: ['connection', 'list'] },
    { args: ['connection', 'put', 'samples/hr-profile.json'] },
    csvUpload('samples/people.csv'),
    { args: ['connection', 'test', PROFILE] },
    { args: ['connection', 'groups', PROFILE] },
    { args: ['sync', PROFILE] },
    { args: ['sync', 'No such/50%'] },
    { args: ['users'] },
    { args: ['audit', '--action', 'skipped'], unordered: true },
    csvUpload('samples/people-next-week.csv'),
    { args: ['sync', PROFILE, '--dry-run'] },
    { args: ['run', 'plan', lastRun((run) => run.dryRun)] },
    { args: ['sync', PROFILE] },
    { args: ['status', PROFILE] },
    { args: ['confirm', lastRun((run) => run.state === 'needs-confirmation')] },
    { args: ['orgchart', 'alan.turing'] },
    { args: ['user', 'add', 'jo.local', '--email', 'jo@intranet.example', '--first-name', 'Jo', '--last-name', 'Local', '--password-setting', 'LOCAL_PASSWORD'] },
    { args: ['user', 'add', 'ada.lovelace', '--email', 'ada@intranet.example', '--first-name', 'Ada', '--last-name', 'Again'] },
    { args: ['group', 'add', 'Intranet editors'] },
    { args: ['group', 'add-member', 'Intranet editors', 'jo.local'] },
    { args: ['group', 'members', 'Intranet editors'] },
    { args: ['groups'] },
    { args: ['user', 'list'] },
    { args: ['user', 'show', 'jo.local'] },
    { args: ['user', 'set-password', 'jo.local', '--password-setting', 'LOCAL_PASSWORD'] },
    { args: ['user', 'set-password', 'jo.local'] },
    { args: ['user', 'disable', 'jo.local'] },
    { args: ['user', 'enable', 'jo.local'] },
    csvUpload(files.withLocalAccount),
    { args: ['sync', PROFILE] },
    { args: ['adopt', PROFILE, '--dry-run'] },
    { args: ['adopt', PROFILE] },
    { args: ['licences'] },
    { args: ['licences', 'recount'] },
    { args: ['users', '--connection', PROFILE, '--json'] },
    { args: ['reset', PROFILE] },
    {
      args: ['run', 'cancel', async (side) => activeRun.get(side)!],
      before: async (side) => {
        await side.pauseQueues();
        activeRun.set(side, (await startRun(side.t.app.deps, { connection: PROFILE, trigger: 'manual', startedBy: 'cli:tester' })).runId);
      },
      after: (side) => side.resumeQueues(),
    },
    { args: ['run', 'cancel', async (side) => activeRun.get(side)!] },
    { args: ['status'] },
    { args: ['audit', '--limit', '1000'], unordered: true },
    { args: ['audit', '--run', async (side) => activeRun.get(side)!, '--json'] },
    { args: ['group', 'remove-member', 'Intranet editors', 'jo.local'] },
    { args: ['group', 'delete', 'Intranet editors'] },
    { args: ['group', 'delete', 'Intranet editors', '--yes'] },
    { args: ['user', 'add', 'sam.temp', '--email', 'sam@intranet.example', '--first-name', 'Sam', '--last-name', 'Temp'] },
    { args: ['user', 'delete', 'sam.temp', '--yes'] },
    { args: ['connection', 'delete', PROFILE] },
    { args: ['connection', 'delete', PROFILE, '--yes'] },
    { args: ['connection', 'list'] },
  ];
}

const ENV = { HR_DEFAULT_PASSWORD: 'Welcome-to-the-intranet-2026', LOCAL_PASSWORD: 'Jo-Local-Pa55word', USERSYNC_LICENCE_LIMIT: '50' };

/** Run ids, directory keys and times differ between two apps; each is named by its order of appearance. */
function normalised(transcript: { step: Step; lines: string[] }[], actor: string): string[] {
  const named = (kind: string) => {
    const names = new Map<string, string>();
    return (value: string) => {
      if (!names.has(value)) names.set(value, `<${kind} ${names.size + 1}>`);
      return names.get(value)!;
    };
  };
  const run = named('run');
  const directory = named('directory');
  return transcript.flatMap(({ step, lines }) => {
    const [command = '', ...said] = lines.map((line) =>
      line
        .replace(/\d{8}T\d{9}Z-[a-z0-9]{6}/g, run)
        .replace(/\bdk[0-9a-f]{12}\b/g, directory)
        .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g, '<time>')
        // Who acted, as the audit lines name them: the CLI's OS user locally, the local host's caller remotely.
        .replace(/ by (?:cli:\S+|api) /g, ' by <actor> ')
        .replace(/"actor":"(?:cli:[^"]+|api)"/g, '"actor":"<actor>"')
        // A generated one-time password is random on each side.
        .replace(/(One-time password for "[^"]+": )\S+/, '$1<password>')
        .replaceAll(actor, '<actor>'),
    );
    return [command, ...(step.unordered ? said.sort() : said)];
  });
}

describe('usersync --url: every command, the same as on storage', () => {
  let local: Side;
  let remote: Side;
  let http: LocalHost;
  let queues: LocalHost | undefined;
  let files: { withLocalAccount: string };

  beforeAll(async () => {
    const folder = await mkdtemp(join(tmpdir(), 'usersync-remote-'));
    files = { withLocalAccount: join(folder, 'people-with-jo.csv') };
    await writeFile(files.withLocalAccount, `${await readFile('samples/people-next-week.csv', 'utf8')}jo.local,jo.local@example.org,Jo,Local,Research,Editor,ada.lovelace\n`);

    const localApp = await createTestApp(ENV);
    local = {
      t: localApp,
      usersync: (args) => cliOn(localApp, ...args),
      pauseQueues: async () => undefined,
      resumeQueues: async () => undefined,
      actor: actorName(`cli:${userInfo().username}`),
    };

    const remoteApp = await createTestApp(ENV);
    const hostOptions = { connectionString: remoteApp.env.AzureWebJobsStorage!, pollIntervalMs: 20, queues: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 200 }, log: () => undefined };
    http = new LocalHost(remoteApp.definitions.filter(isHttpFunction), { ...hostOptions, httpPort: 0 });
    await http.start();
    const startQueues = async () => {
      queues = new LocalHost(remoteApp.definitions.filter(isQueueFunction), hostOptions);
      await queues.start();
    };
    await startQueues();
    remote = {
      t: remoteApp,
      usersync: (args) => cliRemote(['--url', http.httpUrl, ...args]),
      pauseQueues: async () => queues?.stop(),
      resumeQueues: startQueues,
      actor: actorName('api'),
    };
  });
  afterAll(async () => {
    await http?.stop();
    await queues?.stop();
  });

  it('runs the script of every command both ways, with the same output and exit codes', { timeout: 240_000 }, async () => {
    const steps = script(files);
    const covered = new Set(steps.map(({ args }) => resolvedWords(args)));
    expect(COMMANDS.map((command) => command.words).filter((words) => !covered.has(words)), 'commands the script does not run').toEqual([]);

    const transcripts = { local: [] as { step: Step; lines: string[] }[], remote: [] as { step: Step; lines: string[] }[] };
    for (const step of steps) {
      const said = new Map<Side, string[]>();
      for (const side of [local, remote]) {
        await step.before?.(side);
        const args = await Promise.all(step.args.map((arg) => (typeof arg === 'string' ? arg : arg(side))));
        const outcome = await side.usersync(args);
        await step.after?.(side);
        said.set(side, [`$ usersync ${args.join(' ')}  → exit ${outcome.code}`, ...outcome.out.map((line) => `out: ${line}`), ...outcome.err.map((line) => `err: ${line}`)]);
      }
      transcripts.local.push({ step, lines: said.get(local)! });
      transcripts.remote.push({ step, lines: said.get(remote)! });
    }
    const expected = normalised(transcripts.local, local.actor);
    expect(expected.filter((line) => line.startsWith('$ ')).length).toBe(steps.length);
    expect(normalised(transcripts.remote, remote.actor)).toEqual(expected);
  });
});

/** The command a step runs, when it is one as given (a step may be a usage mistake on purpose). */
function resolvedWords(args: Arg[]): string | undefined {
  try {
    const resolved = resolveCommand(COMMANDS, args.map((arg) => (typeof arg === 'string' ? arg : 'RUN_ID')), USAGE);
    return 'spec' in resolved ? resolved.spec.words : undefined;
  } catch {
    return undefined;
  }
}
