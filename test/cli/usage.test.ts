import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCliWith, USAGE } from '../../shared/cli/cli.js';
import type { GlobalOptions } from '../../shared/cli/command-line.js';
import { AppError } from '../../shared/errors/app-error.js';

/**
 * Usage, --help and argument checks, answered before any settings are read or storage is reached: the
 * `connect` given here fails the test if it is called.
 */
async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let connected = false;
  const code = await runCliWith(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, async () => {
    connected = true;
    throw new Error('usage must be answered without connecting');
  });
  return { code, out, err, connected };
}

/** Every command's usage line as the help lists it: `usersync sync NAME [--dry-run] …`. */
const usageLines = USAGE.split('\n')
  .map((line) => /^ {2}(usersync [a-z].*?)(?: {2,}.*)?$/.exec(line)?.[1])
  .filter((line): line is string => line !== undefined);
const wordsOf = (usage: string) => usage.split(' ').slice(1).filter((word) => /^[a-z][a-z-]*$/.test(word));

describe('usersync usage', () => {
  it('lists every command, with every flag', () => {
    expect(usageLines).toEqual(
      expect.arrayContaining([
        'usersync sync NAME [--dry-run] [--from-run RUN_ID] [--incremental] [--json]',
        'usersync run cancel RUN_ID',
        'usersync audit [--run RUN_ID] [--action ACTION] [--user KEY] [--connection NAME] [--since ISO] [--until ISO] [--limit N] [--page-token T] [--json]',
        'usersync user add USERNAME --email E --first-name F --last-name L [--password-setting NAME]',
      ]),
    );
    expect(usageLines).toHaveLength(31);
    expect(USAGE).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*usage or configuration error.*\n {2}3 .*held for confirmation/);
  });

  it.each(usageLines.map((line) => [line]))('%s --help prints its usage and exits 0', async (line) => {
    for (const help of ['--help', '-h']) {
      const result = await cli(...wordsOf(line), help);
      expect(result).toMatchObject({ code: 0, err: [], connected: false });
      expect(result.out[0]).toBe('Usage:');
      expect(result.out.map((printed) => printed.trim())).toContainEqual(expect.stringMatching(new RegExp(`^${escape(line)}( {2}|$)`)));
    }
  });

  it('an unknown flag, a missing or extra argument: one error line, then that command\'s usage, exit 2', async () => {
    const unknown = await cli('sync', 'HR', '--bogus');
    expect(unknown).toMatchObject({ code: 2, out: [], connected: false });
    expect(unknown.err[0]).toMatch(/^error \[usage-invalid\]: Unknown option '--bogus'/);
    expect(unknown.err.slice(1, 3)).toEqual(['Usage:', '  usersync sync NAME [--dry-run] [--from-run RUN_ID] [--incremental] [--json]']);

    expect((await cli('sync')).err.slice(0, 2)).toEqual(['error [usage-invalid]: Missing NAME.', 'Usage:']);
    expect((await cli('confirm', 'a', 'b')).err[0]).toBe('error [usage-invalid]: Unexpected argument "b".');
    expect((await cli('sync', 'HR', '--from-run')).err[0]).toMatch(/^error \[usage-invalid\]: Option '--from-run <value>' argument missing/);
    expect((await cli('sync', 'HR', '--dry-run=yes')).err[0]).toMatch(/^error \[usage-invalid\]: Option '--dry-run' does not take an argument/);
    // parseArgs explains over several lines; the error stays one line.
    expect((await cli('audit', '--limit', '-3')).err[0]).toMatch(/^error \[usage-invalid\]: Option '--limit' argument is ambiguous\. Did you forget/);
    expect((await cli('user', 'add', 'bob', '--email', 'bob@example.org')).err[0]).toBe('error [usage-invalid]: Missing --first-name F.');
    for (const args of [['sync'], ['confirm', 'a', 'b'], ['sync', 'HR', '--from-run'], ['user', 'add', 'bob']]) {
      expect(await cli(...args)).toMatchObject({ code: 2, out: [], connected: false });
    }
  });

  it('a command group without its action, or with a wrong one, prints the group\'s usage', async () => {
    const bare = await cli('connection');
    expect(bare).toMatchObject({ code: 2, connected: false });
    expect(bare.err).toEqual([
      'error [usage-invalid]: Say what to do with "connection".',
      'Usage:',
      expect.stringMatching(/^ {2}usersync connection put FILE\.json/),
      expect.stringMatching(/^ {2}usersync connection list/),
      expect.stringMatching(/^ {2}usersync connection test NAME/),
      expect.stringMatching(/^ {2}usersync connection groups NAME/),
      expect.stringMatching(/^ {2}usersync connection delete NAME --yes/),
    ]);
    expect((await cli('run', 'stop', 'x')).err[0]).toBe('error [usage-invalid]: "run stop" is not a command.');
    const unknown = await cli('frobnicate');
    expect(unknown).toMatchObject({ code: 2, out: [] });
    expect(unknown.err[0]).toBe('error [usage-invalid]: There is no command "frobnicate".');
    expect(unknown.err).toContain('usersync — User Directory Sync admin CLI');
    expect((await cli()).code).toBe(2);
  });

  it('help, --help and help COMMAND exit 0 without storage', async () => {
    for (const args of [['help'], ['--help'], ['-h']]) {
      const result = await cli(...args);
      expect(result).toMatchObject({ code: 0, err: [], connected: false });
      expect(result.out.join('\n')).toBe(USAGE);
    }
    const group = await cli('help', 'group');
    expect(group.out).toEqual([
      'Usage:',
      expect.stringMatching(/group add NAME/),
      expect.stringMatching(/group add-member NAME USERNAME/),
      expect.stringMatching(/group remove-member NAME USERNAME$/),
      expect.stringMatching(/^ +take a user out of a local group$/),
      expect.stringMatching(/group delete NAME --yes/),
      expect.stringMatching(/group members NAME/),
    ]);
  });

  it('audit --limit takes a whole number from 1 to 10000', async () => {
    for (const limit of ['0', 'abc', '1.5', '-3', '10001', '']) {
      const result = await cli('audit', `--limit=${limit}`);
      expect(result).toMatchObject({ code: 2, out: [], connected: false });
      expect(result.err[0]).toBe(`error [usage-invalid]: --limit takes a whole number from 1 to 10000, not "${limit}".`);
    }
  });

  it('takes --url and --scope wherever they stand before --, for connect; usage and --help still answer without it', async () => {
    let given: GlobalOptions | undefined;
    const err: string[] = [];
    const code = await runCliWith(['--url', 'https://usersync.example.org', 'status', 'HR', '--scope=api://usersync/.default'], { out: () => undefined, err: (l) => err.push(l) }, async (options) => {
      given = options;
      throw new AppError('config-invalid', 'connected');
    });
    expect([code, err, given]).toEqual([2, ['error [config-invalid]: connected'], { url: 'https://usersync.example.org', scope: 'api://usersync/.default' }]);
    expect(USAGE).toMatch(/\n {2}--url URL {2,}act on a deployed app through its HTTP API/);

    expect(await cli('--url', 'https://usersync.example.org', 'sync', '--help')).toMatchObject({ code: 0, err: [], connected: false });
    const missing = await cli('status', '--url');
    expect(missing).toMatchObject({ code: 2, out: [], connected: false });
    expect(missing.err[0]).toBe('error [usage-invalid]: --url needs a value.');
    expect((await cli('--url=https://a.example.org', '--url', 'https://b.example.org', 'status')).err[0]).toBe('error [usage-invalid]: --url is given twice.');
  });

  it('an unexpected error is one line pointing at its details, exit 1; never a stack trace', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCliWith(['status'], { out: (l) => out.push(l), err: (l) => err.push(l) }, async () => {
      throw new TypeError('Cannot read properties of undefined');
    });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    const file = / the details are in (\S+);/.exec(err[0]!)?.[1];
    expect(err[0]).toMatch(/^error \[internal-error\]: Cannot read properties of undefined — this is unexpected; the details are in \S+; please include them if you report it\.$/);
    expect(readFileSync(file!, 'utf8')).toMatch(/TypeError: Cannot read properties of undefined\n\s+at /);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
