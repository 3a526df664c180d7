import type { Caller } from '../../shared/admin/operation.js';
import { runCli } from '../../shared/cli/cli.js';
import { localAdminClient } from '../../shared/host/local-admin-client.js';
import type { TestApp } from './test-app.js';

export interface CliOutcome {
  code: number;
  out: string[];
  err: string[];
}

/** Runs one `usersync` command in-process against a test app, capturing what it prints. */
export async function cliOn(t: TestApp, ...args: string[]): Promise<CliOutcome> {
  return cliAs(t, undefined, ...args);
}

/** The same, acting as `caller` (the admin at the keyboard unless given). */
export async function cliAs(t: TestApp, caller: Caller | undefined, ...args: string[]): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const client = localAdminClient(t.app, t.definitions, caller ? { caller } : {});
  const code = await runCli(args, { client, io: { out: (line) => out.push(line), err: (line) => err.push(line) } });
  return { code, out, err };
}
