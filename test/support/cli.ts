import { runCli } from '../../shared/cli/cli.js';
import type { TestApp } from './test-app.js';

export interface CliOutcome {
  code: number;
  out: string[];
  err: string[];
}

/** Runs one `usersync` command in-process against a test app, capturing what it prints. */
export async function cliOn(t: TestApp, ...args: string[]): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { app: t.app, definitions: t.definitions, io: { out: (line) => out.push(line), err: (line) => err.push(line) } });
  return { code, out, err };
}
