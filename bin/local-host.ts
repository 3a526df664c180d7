import { functionDefinitions } from '../functions/registry.js';
import { composeApp } from '../shared/app/compose.js';
import { localEnvironment } from '../shared/config/local-settings.js';
import { LocalHost } from '../shared/host/local-host.js';

/**
 * `npm start`: the app's functions on this machine without the Functions Core Tools — HTTP on
 * USERSYNC_LOCAL_PORT (default 7071), the timer on its schedule, queue workers on Azurite
 * (start it with `npm run azurite`).
 */
const env = localEnvironment(process.cwd(), process.env);
const app = composeApp(env, { log: (line) => console.log(line) });
await app.ensureStorage();
if (!app.config.storageConnectionString) throw new Error('The local host needs AzureWebJobsStorage (a connection string; see local.settings.sample.json).');
const host = new LocalHost(functionDefinitions(app.deps, app.config), {
  connectionString: app.config.storageConnectionString,
  httpPort: Number(env.USERSYNC_LOCAL_PORT ?? 7071),
  runTimer: true,
  ...(env.USERSYNC_LOCAL_WORKERS ? { queueWorkers: Number(env.USERSYNC_LOCAL_WORKERS) } : {}),
  // How soon a message a crashed host was working on reappears (the Functions host's lease is minutes).
  ...(env.USERSYNC_LOCAL_LEASE_SECONDS ? { messageLeaseSeconds: Number(env.USERSYNC_LOCAL_LEASE_SECONDS) } : {}),
  log: (line) => console.log(line),
});
await host.start();
console.log(`usersync local host listening at ${host.httpUrl}/api (Ctrl+C to stop)`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void host
      .stop()
      .then(() => app.close())
      .then(() => process.exit(0));
  });
}
