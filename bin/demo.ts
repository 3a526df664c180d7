import { functionDefinitions } from '../functions/registry.js';
import { composeApp } from '../shared/app/compose.js';
import { runCli } from '../shared/cli/cli.js';
import { startAzurite } from '../shared/host/azurite.js';

/**
 * `npm run demo`: a throwaway Azurite, the sample HR export synced through the real pipeline, then
 * next week's export (one move, one leaver, two fixed rows) previewed with --dry-run and applied.
 */
const azurite = await startAzurite();
let failed = false;
try {
  const app = composeApp({
    AzureWebJobsStorage: azurite.connectionString,
    USERSYNC_NAME_PREFIX: 'demo',
    // The profile names this setting; in Azure it is a Key Vault reference.
    HR_DEFAULT_PASSWORD: 'Welcome-to-the-intranet-2026',
  });
  await app.ensureStorage();
  const context = {
    app,
    definitions: functionDefinitions(app.deps, app.config),
    io: { out: (line: string) => console.log(line), err: (line: string) => console.error(line) },
  };
  const say = (text: string) => console.log(`\n# ${text}`);
  const usersync = async (...args: string[]) => {
    console.log(`\n$ usersync ${args.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`);
    const code = await runCli(args, context);
    if (code !== 0) failed = true;
  };

  say('A CSV connection profile: HR uploads an export; the user match field is "username".');
  await usersync('connection', 'put', 'samples/hr-profile.json');
  await usersync('csv', 'upload', 'HR export', 'samples/people.csv');
  await usersync('sync', 'HR export');
  await usersync('users');
  say('Why four rows were not synced:');
  await usersync('audit', '--action', 'skipped');

  say("Next week's export: Alan moves to Research, Katherine has left, Edsger and Linus are fixed, the duplicate is gone.");
  await usersync('csv', 'upload', 'HR export', 'samples/people-next-week.csv');
  await usersync('sync', 'HR export', '--dry-run');
  await usersync('sync', 'HR export');
  await usersync('users');
  say('Managers were linked in the same run (the manager column holds usernames):');
  await usersync('orgchart', 'alan.turing');
  await usersync('status');
} finally {
  await azurite.stop();
}
process.exitCode = failed ? 1 : 0;
