// The words the surfaces format what the operations answer with: they reach the core's through here only.
export { COUNTED_ACTIONS, LOCAL_DIRECTORY } from '../sync/model.js';
export { isTerminal, summarise, type Run } from '../sync/run-model.js';
export type { RunView } from './runs.js';
