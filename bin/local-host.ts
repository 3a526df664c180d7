import { functionDefinitions } from '../functions/registry.js';
import { composeApp, type ComposedApp } from '../shared/app/compose.js';
import { localEnvironment } from '../shared/config/local-settings.js';
import { LocalHost } from '../shared/host/local-host.js';
import { EXIT } from '../shared/cli/exit-codes.js';
import { AppError, describeError, isAppError } from '../shared/errors/app-error.js';
import { storageProblem } from '../shared/store/storage-clients.js';

/**
 * `npm start`: the app's functions on this machine without the Functions Core Tools — HTTP on
 * USERSYNC_LOCAL_PORT (default 7071): the web console at its root (dist/console, which `npm start` builds
 * first) and the API under /api —, the timer on its schedule, queue workers on Azurite (start it with
 * `npm run azurite`).
 */
let app: ComposedApp;
let host: LocalHost;
try {
  const env = localEnvironment(process.cwd(), process.env);
  app = composeApp(env, { log: (line) => console.log(line) });
  await app.ensureStorage();
  if (!app.config.storageConnectionString) {
    throw new AppError('config-invalid', 'The local host needs AzureWebJobsStorage (a connection string; see local.settings.sample.json).');
  }
  // On 127.0.0.1 only: whoever reaches it is at this machine, with the storage keys — an admin.
  host = new LocalHost(functionDefinitions(app, { localHost: true }), {
    connectionString: app.config.storageConnectionString,
    httpPort: Number(env.USERSYNC_LOCAL_PORT ?? 7071),
    runTimer: true,
    ...(env.USERSYNC_LOCAL_WORKERS ? { queueWorkers: Number(env.USERSYNC_LOCAL_WORKERS) } : {}),
    // How soon a message a crashed host was working on reappears (the Functions host's lease is minutes).
    ...(env.USERSYNC_LOCAL_LEASE_SECONDS ? { messageLeaseSeconds: Number(env.USERSYNC_LOCAL_LEASE_SECONDS) } : {}),
    log: (line) => console.log(line),
  });
  await host.start();
} catch (error) {
  // Storage not running, a bad setting, the port taken: one line saying what to do, not a stack trace.
  const known = isAppError(error) ? error : storageProblem(error);
  console.error(known ? `error [${known.code}]: ${known.message}` : `error: the local host did not start: ${describeError(error).message}`);
  process.exit(EXIT.usage);
}
console.log(`usersync local host listening at ${host.httpUrl}/api (Ctrl+C to stop)`);
console.log(`console at ${host.httpUrl}/`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void host
      .stop()
      .then(() => app.close())
      .then(() => process.exit(0));
  });
}
