import { app } from '@azure/functions';
import { composeApp } from '../shared/app/compose.js';
import { isHttpFunction, isQueueFunction, isTimerFunction } from '../shared/app/registry.js';
import { functionDefinitions } from './registry.js';

/**
 * The Functions host's entry point (package.json "main"). Config is validated first: an invalid
 * setting throws here, so the app fails to start loudly instead of starting with no functions.
 */
const composed = composeApp(process.env, { log: (line) => console.log(line) });

// Request and response bodies as streams: an uploaded CSV goes to its blob, an export to the caller, as they flow.
app.setup({ enableHttpStream: true });

for (const definition of functionDefinitions(composed)) {
  if (isTimerFunction(definition)) {
    app.timer(definition.name, { schedule: definition.trigger.schedule, handler: definition.handler });
  } else if (isQueueFunction(definition)) {
    app.storageQueue(definition.name, { queueName: definition.trigger.queueName, connection: 'AzureWebJobsStorage', handler: definition.handler });
  } else if (isHttpFunction(definition)) {
    // No function key: Easy Auth lets through only a request signed in with Entra ID (a token, or the console's
    // browser session), and the app checks each caller's role per operation (a browser could not hold a key).
    // Without Easy Auth no role is granted.
    app.http(definition.name, { route: definition.trigger.route, methods: definition.trigger.methods, authLevel: 'anonymous', handler: definition.handler });
  }
}

// Tables, queues and containers must exist before the first trigger fires.
app.hook.appStart(async () => {
  await composed.ensureStorage();
});
