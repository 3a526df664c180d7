import { functionDefinitions } from '../functions/registry.js';
import { composeApp } from '../shared/app/compose.js';
import { runCli } from '../shared/cli/cli.js';
import { EXIT } from '../shared/cli/exit-codes.js';
import { startAzurite } from '../shared/host/azurite.js';
import { localAdminClient } from '../shared/host/local-admin-client.js';

/**
 * `npm run demo`: a throwaway Azurite, the sample HR export synced through the real pipeline, then
 * next week's export (one move, one leaver, two fixed rows) previewed with --dry-run and applied: the
 * disable guard holds the leaver until `usersync confirm`. Exits 0 only if every step ended as the
 * story says it does.
 */
const azurite = await startAzurite();
const surprises: string[] = [];
try {
  const app = composeApp({
    AzureWebJobsStorage: azurite.connectionString,
    USERSYNC_NAME_PREFIX: 'demo',
    // The profile names this setting; in Azure it is a Key Vault reference.
    HR_DEFAULT_PASSWORD: 'Welcome-to-the-intranet-2026',
  });
  await app.ensureStorage();
  const context = {
    client: localAdminClient(app, functionDefinitions(app)),
    io: { out: (line: string) => console.log(line), err: (line: string) => console.error(line) },
  };
  const say = (...lines: string[]) => console.log(`\n${lines.map((line) => `# ${line}`).join('\n')}`);
  const usersync = async (args: string[], expected: number = EXIT.succeeded) => {
    const command = `usersync ${args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`;
    console.log(`\n$ ${command}`);
    const code = await runCli(args, context);
    if (code !== expected) surprises.push(`${command} exited ${code}, not ${expected}`);
  };

  say('A CSV connection profile: HR uploads an export; the user match field is "username".');
  await usersync(['connection', 'put', 'samples/hr-profile.json']);
  await usersync(['csv', 'upload', 'HR export', 'samples/people.csv']);
  await usersync(['sync', 'HR export']);
  await usersync(['users']);
  say('Why four rows were not synced:');
  await usersync(['audit', '--action', 'skipped']);

  say("Next week's export: Alan moves to Research, Katherine has left, Edsger and Linus are fixed, the duplicate is gone.");
  await usersync(['csv', 'upload', 'HR export', 'samples/people-next-week.csv']);
  await usersync(['sync', 'HR export', '--dry-run']);
  say(
    'The disable guard holds a run that would disable more than 10% of the users and more than "minCount" of them.',
    "The default minCount (5) lets a small directory's routine leaver through; this six-user sample sets it to 0 to",
    'show the guard at work: Katherine waits for an admin. Everything else lands, and sync exits 3 (held).',
  );
  await usersync(['sync', 'HR export'], EXIT.held);
  const held = (await app.deps.connections.get('HR export'))?.state.lastRunId ?? 'no-run';
  say('The held run names who would be disabled; an admin confirms it:');
  await usersync(['confirm', held]);
  await usersync(['users']);
  say('Managers were linked in the same run (the manager column holds usernames):');
  await usersync(['orgchart', 'alan.turing']);
  await usersync(['status']);
} finally {
  await azurite.stop();
}
if (surprises.length) {
  console.error(`\nThe demo did not go as told:\n${surprises.map((line) => `  ${line}`).join('\n')}`);
  process.exitCode = 1;
}
