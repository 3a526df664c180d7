import type { AdminClient } from '../../shared/admin/client.js';
import type { Caller } from '../../shared/admin/operation.js';
import { runCliWith } from '../../shared/cli/cli.js';
import type { GlobalOptions } from '../../shared/cli/command-line.js';
import { localAdminClient } from '../../shared/host/local-admin-client.js';
import { remoteAdminClient, type RemoteClientOptions } from '../../shared/remote/http-admin-client.js';
import { remoteSettings } from '../../shared/remote/remote-settings.js';
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
  return captured(args, async () => ({ client: localAdminClient(t.app, t.definitions, caller ? { caller } : {}) }));
}

/**
 * Runs one `usersync --url … COMMAND` in-process as the bin does: the app's address and scope from the
 * options or `env` (USERSYNC_URL, USERSYNC_API_SCOPE, USERSYNC_FUNCTION_KEY), through its HTTP API.
 */
export async function cliRemote(args: string[], env: Record<string, string> = {}, options: RemoteClientOptions = {}): Promise<CliOutcome> {
  return captured(args, async (global) => {
    const settings = remoteSettings(global, env);
    if (!settings) throw new Error('cliRemote: give --url or USERSYNC_URL');
    return { client: remoteAdminClient(settings, options) };
  });
}

async function captured(args: string[], connect: (options: GlobalOptions) => Promise<{ client: AdminClient }>): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCliWith(args, { out: (line) => out.push(line), err: (line) => err.push(line) }, connect);
  return { code, out, err };
}
