import { z } from 'zod';
import { RUN_ID_PATTERN } from '../sync/run-model.js';

// Input fields the operations share. Their messages complete "field: …" in a 400's list of problems.

export const flag = z.boolean({ error: 'must be true or false' });

export const text = z.string({ error: 'must be text' }).min(1, 'must not be empty');

const WHOLE_NUMBER = 'must be a whole number from 1 to 1000';

/** How many items a page holds. */
export const pageLimit = z.number({ error: WHOLE_NUMBER }).int(WHOLE_NUMBER).min(1, WHOLE_NUMBER).max(1000, WHOLE_NUMBER);

export const runId = z.string().regex(RUN_ID_PATTERN, 'not a run id');

/** A path segment: a name as given (the use case says when nothing has it). */
export const segment = z.string();
