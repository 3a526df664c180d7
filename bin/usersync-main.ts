import { functionDefinitions } from '../functions/registry.js';
import { composeApp } from '../shared/app/compose.js';
import { runCli, USAGE } from '../shared/cli/cli.js';
import { localEnvironment } from '../shared/config/local-settings.js';
import { isAppError } from '../shared/errors/app-error.js';

const io = { out: (line: string) => console.log(line), err: (line: string) => console.error(line) };
const [command] = process.argv.slice(2);
if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
  // Help needs no storage: print it before reading any settings.
  io.out(USAGE);
  process.exit(command === undefined ? 2 : 0);
}
try {
  const app = composeApp(localEnvironment(process.cwd(), process.env));
  await app.ensureStorage();
  process.exitCode = await runCli(process.argv.slice(2), { app, definitions: functionDefinitions(app.deps, app.config), io });
} catch (error) {
  if (!isAppError(error)) throw error;
  io.err(`error [${error.code}]: ${error.message}`);
  process.exitCode = 2;
}
