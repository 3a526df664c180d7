import type { HttpFunction } from '../shared/app/registry.js';
import { handleApi } from '../shared/http/api.js';
import type { SyncDependencies } from '../shared/sync/dependencies.js';

/** One HTTP function for every route under /api: manual sync, reset, status. */
export function httpApiFunction(deps: SyncDependencies): HttpFunction {
  return {
    name: 'httpApi',
    trigger: { kind: 'http', route: '{*path}', methods: ['GET', 'POST', 'PUT', 'DELETE'] },
    handler: async (request) => {
      const url = new URL(request.url);
      const body = request.body ? await request.text() : undefined;
      return handleApi(deps, { method: request.method, path: request.params.path ?? '', query: url.searchParams, ...(body !== undefined ? { body } : {}) });
    },
  };
}
