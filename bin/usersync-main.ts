import { functionDefinitions } from '../functions/registry.js';
import { composeApp, type ComposedApp } from '../shared/app/compose.js';
import { runCliWith } from '../shared/cli/cli.js';
import { localEnvironment } from '../shared/config/local-settings.js';

const io = { out: (line: string) => console.log(line), err: (line: string) => console.error(line) };
let app: ComposedApp | undefined;
// Settings are read and storage reached only for a command that needs them: usage and --help answer without.
const code = await runCliWith(process.argv.slice(2), io, async () => {
  app = composeApp(localEnvironment(process.cwd(), process.env));
  await app.ensureStorage();
  return { app, definitions: functionDefinitions(app.deps, app.config) };
});
// Audit events batched for Application Insights (when configured) are sent before the process ends.
await app?.close().catch(() => undefined);
// Exit once the output is flushed, not when the event loop drains: after a failed call the storage SDKs'
// other requests may still be retrying in the background, which would keep the admin waiting for nothing.
const flushed = (stream: NodeJS.WriteStream) => new Promise((resolve) => stream.write('', resolve));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
