import type { ComposedApp } from '../shared/app/compose.js';
import type { FunctionDefinition } from '../shared/app/registry.js';
import { defaultConsoleFolder } from '../shared/console/console-files.js';
import type { CallerTrust } from '../shared/http/caller.js';
import { scimConnections } from '../shared/scim/connections.js';
import { consoleFunction } from './console.js';
import { finaliseJobFunction } from './finalise-job.js';
import { httpApiFunction } from './http-api.js';
import { pageJobFunction } from './page-job.js';
import { poisonJobFunctions } from './poison-jobs.js';
import { reconcileJobFunction } from './reconcile-job.js';
import { scimFunction } from './scim.js';
import { timerTickFunction } from './timer-tick.js';

export interface DefinitionOptions {
  /** The local host serves these on 127.0.0.1, where every HTTP caller is an admin. */
  localHost?: boolean;
  /** The built console the app serves at its root; default the package's dist/console (tests build their own). */
  consoleFolder?: string;
}

/**
 * Every function of the app, for the Functions host (main.ts) and the local host alike. HTTP callers are
 * whom Easy Auth names when the platform says it is on, else no one (no role).
 */
export function functionDefinitions(
  { deps, config, csvFiles, pushedDirectories }: Pick<ComposedApp, 'deps' | 'config' | 'csvFiles' | 'pushedDirectories'>,
  { localHost = false, consoleFolder = defaultConsoleFolder() }: DefinitionOptions = {},
): FunctionDefinition[] {
  const trust: CallerTrust = localHost ? 'local-host' : config.easyAuth ? 'easy-auth' : 'none';
  return [
    timerTickFunction(deps, config.timerSchedule),
    pageJobFunction(deps, config.names.pagesQueue),
    reconcileJobFunction(deps, config.names.reconcileQueue),
    finaliseJobFunction(deps, config.names.finaliseQueue),
    ...poisonJobFunctions(deps, config.names),
    httpApiFunction({ deps, csvFiles, config }, trust),
    scimFunction(scimConnections(deps.connections, pushedDirectories), deps.secrets),
    consoleFunction(consoleFolder),
  ];
}
