import type { ComposedApp } from '../shared/app/compose.js';
import type { FunctionDefinition } from '../shared/app/registry.js';
import { finaliseJobFunction } from './finalise-job.js';
import { httpApiFunction } from './http-api.js';
import { pageJobFunction } from './page-job.js';
import { poisonJobFunctions } from './poison-jobs.js';
import { reconcileJobFunction } from './reconcile-job.js';
import { timerTickFunction } from './timer-tick.js';

/** Every function of the app, for the Functions host (main.ts) and the local host alike. */
export function functionDefinitions({ deps, config, csvFiles }: Pick<ComposedApp, 'deps' | 'config' | 'csvFiles'>): FunctionDefinition[] {
  return [
    timerTickFunction(deps, config.timerSchedule),
    pageJobFunction(deps, config.names.pagesQueue),
    reconcileJobFunction(deps, config.names.reconcileQueue),
    finaliseJobFunction(deps, config.names.finaliseQueue),
    ...poisonJobFunctions(deps, config.names),
    httpApiFunction({ deps, csvFiles, config }),
  ];
}
