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

const INSTANT = 'must be an ISO 8601 date (2026-11-21) or date and time with Z or an offset (2026-11-21T09:30:00Z)';

/** A point in time as an admin writes it: a date (a UTC day) or a date and time with its offset. */
export const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: INSTANT });

const isDate = (text: string) => text.length === 'yyyy-mm-dd'.length;

/** The start of a window, as an ISO instant in UTC: a date means from the start of that day. */
export const since = instant.transform((text) => (isDate(text) ? `${text}T00:00:00.000Z` : new Date(text).toISOString()));

/** The end of a window, included: a date means to the end of that day. */
export const until = instant.transform((text) => (isDate(text) ? `${text}T23:59:59.999Z` : new Date(text).toISOString()));
