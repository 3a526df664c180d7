import { functionDefinitions } from '../functions/registry.js';
import { composeApp, type ComposedApp } from '../shared/app/compose.js';
import { runCliWith } from '../shared/cli/cli.js';
import { processIo } from '../shared/cli/output.js';
import { localEnvironment } from '../shared/config/local-settings.js';
import { localAdminClient } from '../shared/host/local-admin-client.js';
import { remoteAdminClient } from '../shared/remote/http-admin-client.js';
import { remoteSettings } from '../shared/remote/remote-settings.js';
import { storageProblem } from '../shared/store/storage-clients.js';

const io = processIo(process.stdout, process.stderr);
let app: ComposedApp | undefined;
// Settings are read and storage reached only for a command that needs them: usage and --help answer without.
const code = await runCliWith(process.argv.slice(2), io, async (options) => {
  // --url (or USERSYNC_URL): a deployed app, through its HTTP API; no storage settings needed here.
  const remote = remoteSettings(options, process.env);
  if (remote) return { client: remoteAdminClient(remote) };
  const composed = (app = composeApp(localEnvironment(process.cwd(), process.env)));
  // Storage not running or refusing us: one line saying what to do (as every later call says it).
  await composed.ensureStorage().catch((error: unknown) => {
    throw storageProblem(error) ?? error;
  });
  return { client: localAdminClient(composed, functionDefinitions(composed)) };
});
// Audit events batched for Application Insights (when configured) are sent before the process ends.
await app?.close().catch(() => undefined);
// Exit once the output is flushed, not when the event loop drains: after a failed call the storage SDKs'
// other requests may still be retrying in the background, which would keep the admin waiting for nothing.
const flushed = (stream: NodeJS.WriteStream) => new Promise((resolve) => stream.write('', resolve));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
