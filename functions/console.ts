import type { HttpFunction } from '../shared/app/registry.js';
import { consoleAnswer } from '../shared/console/console-files.js';

/**
 * The web console at the app's root: every GET or HEAD that is not under /api (whose literal segment wins over
 * this catch-all) is a file of the built console, or its page for a client-side route (shared/console/).
 */
export function consoleFunction(folder: string): HttpFunction {
  return {
    name: 'httpConsole',
    trigger: { kind: 'http', route: '{*path}', methods: ['GET', 'HEAD'] },
    // The path as sent, not the host's decoded `params.path`: consoleAnswer decodes it once, and refuses escapes.
    handler: async (request) => consoleAnswer(folder, request.method, new URL(request.url).pathname),
  };
}
